# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Failure paths with the installed wheel against armsim: a re-run is never more disruptive than the plan, and no
failure leaves a member down. End states through stock az; writes from the simulator's request log."""
import datetime
import json
import os
import pty
import select
import signal
import subprocess
import threading
import time

import pytest

from conftest import AZ, Sim
from landscapes import (associated, crg, flexible, interruptible, member, model_group, move, powers,
                        run_killed_after_writes, seed, uniform, vm_group, writes)
from armsim import lifecycle


def deallocations(sim, mark, rg):
    return [w for w in writes(sim, mark, rg) if w[1].lower().endswith("/deallocate")]


def test_interrupted_in_place_attach_resumes_in_place(az_sim):
    """Zonal Uniform Manual, 2 of 4 running, killed after the model step: the re-run deallocates nothing."""
    rg = "fl-inplace"
    spec = uniform(capacity=4, group=None, power={"2": "deallocated", "3": "deallocated"})
    seed(az_sim, rg, [crg("b")], [spec])
    args = ["vmss", "capacity-reservation", "attach", "-g", rg, "-n", "u", "--crg", "b", "--yes"]
    assert run_killed_after_writes(az_sim, args, 1) == -9
    assert model_group(az_sim, rg, "u").lower().endswith("/b")  # the model step happened
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", rg, "u", "--crg", "b", "--yes")
    assert deallocations(az_sim, mark, rg) == [] and result["disruption"]["instancesDeallocated"] == 0
    assert result["status"]["state"] == "attached" and len(associated(az_sim, rg, "b")) == 4
    assert powers(az_sim, rg, "u") == {"0": "running", "1": "running", "2": "deallocated", "3": "deallocated"}


def test_status_after_an_interrupted_flexible_attach_finishes_the_attach(az_sim):
    rg = "fl-status"
    names = ["s-{}".format(n) for n in range(5)]
    seed(az_sim, rg, [crg(zones=())], [flexible(members=[member(n, zone=None, group=None) for n in names])])
    args = ["vmss", "capacity-reservation", "attach", "-g", rg, "-n", "f", "--crg", "g", "--yes"]
    assert run_killed_after_writes(az_sim, args, 4) == -9  # batch 1 deallocated, associated, started; batch 2 on
    _, status, _ = move(az_sim, "status", rg, "f")
    assert status["state"] == "partial" and status["unfinishedRun"]["action"] == "attach"
    assert "capacity-reservation attach -g {} -n f --crg g".format(rg) in status["nextAction"]
    assert "detach" not in status["nextAction"]
    on_target = [i for i in status["instances"] if (i["capacityReservationGroup"] or "").lower().endswith("/g")]
    assert on_target and all(i["inSync"] for i in on_target)
    move(az_sim, "attach", rg, "f", "--crg", "g", "--yes")
    _, status, _ = move(az_sim, "status", rg, "f")
    assert status["state"] == "attached" and status["unfinishedRun"] is None
    assert set(powers(az_sim, rg, "f", names).values()) == {"running"}


def test_a_spot_member_is_refused_before_any_write(az_sim):
    rg = "fl-spot"
    members = [member("sp-0", zone=None, group=None), dict(member("sp-1", zone=None, group=None), priority="Spot")]
    seed(az_sim, rg, [crg(zones=())], [flexible(members=members)])
    mark = az_sim.mark()
    for extra in (["--dry-run"], ["--yes"]):
        code, _, err = move(az_sim, "attach", rg, "f", "--crg", "g", *extra, expect=None)
        assert code != 0 and "sp-1" in err and "Spot" in err and "run the same command again" not in err.lower()
    assert writes(az_sim, mark) == []
    assert powers(az_sim, rg, "f", ["sp-0", "sp-1"]) == {"sp-0": "running", "sp-1": "running"}
    assert vm_group(az_sim, rg, "sp-0") is None and vm_group(az_sim, rg, "sp-1") is None


@pytest.mark.parametrize("policy, zones", [("Automatic", ()), ("Rolling", ("1",)), ("Manual", ())])
def test_a_protected_instance_is_deallocated_and_upgraded_by_name(az_sim, policy, zones):
    """No upgrade policy and no whole-set action reaches a protected instance: the plan names it; it ends attached
    and running like the others."""
    rg = "fl-protect-" + policy.lower()
    seed(az_sim, rg, [crg(zones=zones)], [uniform(policy=policy, zones=zones, group=None, capacity=4)])
    az_sim.az("vmss", "update", "-g", rg, "-n", "u", "--instance-id", "1", "--protect-from-scale-set-actions", "true")
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", rg, "u", "--crg", "g", "--yes", "--max-unavailable", "25")
    assert result["status"]["state"] == "attached" and len(associated(az_sim, rg)) == 4
    assert powers(az_sim, rg, "u") == {str(n): "running" for n in range(4)}
    reasons = [s["reason"] for s in result["steps"] if "1" in s["targets"]]
    assert any("Instance protection" in r for r in reasons), reasons
    assert len(deallocations(az_sim, mark, rg)) == (0 if zones else 2)  # in place, or the whole set and instance 1


def test_an_instance_added_just_before_the_first_write_is_deallocated_with_the_whole_set(az_sim):
    """Autoscale adds an instance after the last read and before the deallocation: the documented whole-set
    deallocation takes it down too, the model change succeeds, and it ends on the group and running."""
    rg = "fl-added"
    seed(az_sim, rg, [crg(zones=())], [uniform(zones=(), group=None)])
    _, vmss, _ = az_sim.az("vmss", "show", "-g", rg, "-n", "u")
    az_sim.client.call("POST", "/simulator/scale-out", {"scaleSet": vmss["id"], "count": 1}, auth=False)
    _, result, err = move(az_sim, "attach", rg, "u", "--crg", "g", "--yes")
    assert "were added to the scale set since the plan (3)" in err
    assert result["status"]["state"] == "attached" and len(associated(az_sim, rg)) == 4
    assert powers(az_sim, rg, "u") == {str(n): "running" for n in range(4)}


@pytest.mark.parametrize("end", ["Faulted", "Cancelled"])
def test_a_rolling_upgrade_that_fails_stops_the_run_and_starts_everything_again(az_sim, end):
    rg = "fl-roll-" + end.lower()
    seed(az_sim, rg, [crg(zones=())], [uniform(policy="Rolling", zones=(), group=None, power={"2": "deallocated"})])
    _, vmss, _ = az_sim.az("vmss", "show", "-g", rg, "-n", "u")
    az_sim.client.call("POST", "/simulator/rolling-upgrades", {"scaleSet": vmss["id"], "end": end}, auth=False)
    started = time.time()
    code, _, err = move(az_sim, "attach", rg, "u", "--crg", "g", "--yes", expect=None)
    assert code != 0 and time.time() - started < 60
    assert "ended " + end in err and "fix what the error names first" in err
    assert "Finished" not in err
    assert powers(az_sim, rg, "u") == {"0": "running", "1": "running", "2": "deallocated"}


def interrupt_at_first_deallocation(sim, rg, *args):
    """Start `az vmss capacity-reservation ARGS --yes --max-unavailable 20` (its stderr a pipe), send it SIGINT as
    soon as the simulator has a deallocation in `rg`; (the process, the request log's mark before it started)."""
    mark = sim.mark()
    proc = subprocess.Popen([AZ, "vmss", "capacity-reservation", *args, "--yes", "--max-unavailable", "20"],
                            env=sim.env(), cwd=sim.dir, text=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=interruptible)
    deadline = time.time() + 120
    while not deallocations(sim, mark, rg) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    return proc, mark


def test_sigint_during_a_flexible_batch_stops_and_starts_the_batch_again(tmp_path):
    directory = str(tmp_path / "sim")
    lifecycle.up(directory, lro_seconds=1)
    try:
        sim = Sim(directory)
        rg = "fl-sigint"
        names = ["i-{}".format(n) for n in range(10)]
        seed(sim, rg, [crg(zones=())], [flexible(members=[member(n, zone=None, group=None) for n in names])])
        proc, mark = interrupt_at_first_deallocation(sim, rg, "attach", "-g", rg, "-n", "f", "--crg", "g")
        interrupted = time.time()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0 and time.time() - interrupted < 30
        assert "Finished" not in err and "100%" not in err
        assert "To finish the job, run: az vmss capacity-reservation attach -g {} -n f --crg".format(rg) in err
        assert set(powers(sim, rg, "f", names).values()) == {"running"}
        # no batch after the first was started
        assert len(deallocations(sim, mark, rg)) <= 2
        _, result, _ = move(sim, "attach", rg, "f", "--crg", "g", "--yes")
        assert result["status"]["state"] == "attached"
        assert set(powers(sim, rg, "f", names).values()) == {"running"}
    finally:
        lifecycle.down(directory)


def test_a_second_sigint_aborts_at_once_and_keeps_the_journal(tmp_path):
    """Flexible detach: Ctrl-C during a batch starts the compensation; a second Ctrl-C aborts it at once, the journal
    of what the run deallocated stays, and a re-run finishes the job."""
    directory = str(tmp_path / "sim")
    lifecycle.up(directory, lro_seconds=2)
    try:
        sim = Sim(directory)
        rg = "fl-sigint2"
        names = ["j-{}".format(n) for n in range(10)]
        seed(sim, rg, [crg(zones=())], [flexible(members=[member(n, zone=None) for n in names])])
        proc, _ = interrupt_at_first_deallocation(sim, rg, "detach", "-g", rg, "-n", "f")
        err = []
        reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
        reader.start()
        deadline = time.time() + 120
        while not any("press Ctrl-C again" in line for line in err) and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "".join(err)  # compensating: the batch's deallocations are still running
        os.killpg(proc.pid, signal.SIGINT)
        aborted = time.time()
        proc.wait(timeout=60)
        reader.join(timeout=10)
        assert proc.returncode != 0 and time.time() - aborted < 5, "".join(err)
        assert "Aborted: members this run deallocated may still be deallocated" in "".join(err)
        assert os.path.exists(journal_path(sim, rg, "f")), "".join(err)
        with open(journal_path(sim, rg, "f")) as f:
            record = json.load(f)
        assert record["action"] == "detach" and record["deallocated"]
        _, result, _ = move(sim, "detach", rg, "f", "--yes")
        assert result["status"]["state"] == "detached"
        assert set(powers(sim, rg, "f", names).values()) == {"running"}
        assert not os.path.exists(journal_path(sim, rg, "f"))
    finally:
        lifecycle.down(directory)


def answer_prompts(args, env, cwd, on_prompt, timeout=120):
    """Run az in a terminal; at each confirmation call on_prompt(n, text so far) and answer y."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execve(AZ, [AZ] + list(args), env)
    text, prompts, deadline = "", 0, time.time() + timeout
    try:
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096).decode(errors="replace")
                except OSError:
                    break
                if not chunk:
                    break
                text += chunk
                if text.count("Do you want to continue?") > prompts:
                    prompts += 1
                    on_prompt(prompts, text)
                    os.write(fd, b"y\n")
    finally:
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text, prompts


def test_an_instance_added_while_the_prompt_is_open_is_planned_for(az_sim):
    rg = "fl-scaled"
    seed(az_sim, rg, [crg(zones=())], [uniform(zones=(), group=None)])

    def scale_out(n, _):
        if n == 1:  # autoscale adds an instance while the user reads the plan
            az_sim.az("vmss", "scale", "-g", rg, "-n", "u", "--new-capacity", "4")
    env = dict(az_sim.env(), TERM="dumb")
    code, text, prompts = answer_prompts(["vmss", "capacity-reservation", "attach", "-g", rg, "-n", "u", "--crg", "g",
                                          "-o", "none"], env, az_sim.dir, scale_out)
    assert code == 0, text[-3000:]
    assert prompts == 2 and "The scale set changed since the plan was shown" in text
    assert "now also deallocates: 3" in text
    assert len(associated(az_sim, rg)) == 4
    assert powers(az_sim, rg, "u") == {str(n): "running" for n in range(4)}


def journal_path(sim, rg, name):
    env = sim.env()
    return os.path.join(env["AZURE_CONFIG_DIR"], "vmsscrg", "journal", sim.sub.lower(), rg.lower(), name + ".json")


@pytest.mark.parametrize("age_days, action, applied", [(0, "attach", True), (10, "attach", False),
                                                       (0, "detach", False)])
def test_a_stale_journal_is_reported_and_not_applied(az_sim, age_days, action, applied):
    rg = "fl-journal-{}-{}".format(age_days, action)
    seed(az_sim, rg, [crg(zones=())], [flexible(members=[member("j-0", zone=None, group=None),
                                                         member("j-1", zone=None, group=None, power="deallocated")])])
    path = journal_path(az_sim, rg, "f")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=age_days)
    group = "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/capacityReservationGroups/g".format(
        az_sim.sub, rg)
    with open(path, "w") as f:
        json.dump({"action": action, "capacityReservationGroup": group if action == "attach" else None,
                   "started": started.isoformat(), "running": ["j-0", "j-1"], "deallocated": ["j-1"]}, f)
    _, status, _ = move(az_sim, "status", rg, "f")
    assert status["unfinishedRun"]["action"] == action
    _, result, err = move(az_sim, "attach", rg, "f", "--crg", "g", "--yes")
    assert result["status"]["state"] == "attached"
    assert ("is not applied" in err) is not applied
    assert powers(az_sim, rg, "f", ["j-0", "j-1"]) == {"j-0": "running",
                                                       "j-1": "running" if applied else "deallocated"}
    assert not os.path.exists(path)


def test_an_autoscale_setting_on_the_scale_set_is_warned_about(az_sim):
    rg = "fl-autoscale"
    seed(az_sim, rg, [crg()], [uniform(group=None)])
    _, vmss, _ = az_sim.az("vmss", "show", "-g", rg, "-n", "u")
    url = "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Insights/autoscalesettings/grow?api-version=" \
          "2022-10-01".format(az_sim.env()["ARMSIM_URL"], az_sim.sub, rg)
    az_sim.az("rest", "--method", "put", "--url", url, "--body", json.dumps({
        "location": "eastus", "properties": {"enabled": True, "targetResourceUri": vmss["id"], "profiles": []}}))
    _, _, err = move(az_sim, "attach", rg, "u", "--crg", "g", "--dry-run")
    assert "Autoscale setting 'grow' targets this scale set" in err and "--enabled false" in err


def test_core_disable_confirm_prompt_is_honoured(az_sim):
    rg = "fl-noprompt"
    seed(az_sim, rg, [crg()], [uniform(group=None)])
    env = dict(az_sim.env(), AZURE_CORE_DISABLE_CONFIRM_PROMPT="true")
    _, result, _ = az_sim.az("vmss", "capacity-reservation", "attach", "-g", rg, "-n", "u", "--crg", "g", env=env)
    assert result["status"]["state"] == "attached"
