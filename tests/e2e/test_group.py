# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""status --crg and detach --crg: a whole capacity reservation group, checked through stock az."""
import os
import re
import signal
import subprocess
import time

import pytest

from armsim import lifecycle
from conftest import AZ, Sim
from landscapes import (SIZE, associated, crg, flexible, interruptible, member, model_group, powers,
                        run_killed_after_writes, run_to_file, seed, uniform, vm_group, writes)

FLEX = ["f-0", "f-1", "f-2"]
VMS = ["vm-a", "vm-b"]


def landscape(sim, rg):
    """A Uniform set (Automatic), a Flexible set without profile (members running and deallocated), a standalone
    VM and a stopped (still allocated) VM, all on group g."""
    seed(sim, rg, [crg(capacity=10)],
         [uniform(policy="Automatic", capacity=2),
          flexible(members=[member("f-0"), member("f-1", power="deallocated"), member("f-2")])],
         vms=[{"name": "vm-a", "zone": "1", "capacityReservationGroup": "g", "sku": SIZE},
              {"name": "vm-b", "zone": "1", "capacityReservationGroup": "g", "sku": SIZE, "power": "stopped"}])


def group(sim, verb, rg, *extra, expect=0):
    return sim.az("vmss", "capacity-reservation", verb, "-g", rg, "--crg", "g", *extra, expect=expect)


def vm_powers(sim, rg):
    return powers(sim, rg, None, FLEX + VMS)


def assert_emptied(sim, rg):
    assert associated(sim, rg) == []
    assert model_group(sim, rg, "u") is None
    assert all(vm_group(sim, rg, vm) is None for vm in FLEX + VMS)
    assert set(powers(sim, rg, "u").values()) == {"running"}
    got = vm_powers(sim, rg)
    # every machine that ran runs; the stopped VM had to be deallocated to leave the group
    assert got == {"f-0": "running", "f-1": "deallocated", "f-2": "running", "vm-a": "running",
                   "vm-b": "deallocated"}, got


def delete_with_stock_az(sim, rg):
    for name in ("r1",):
        sim.az("capacity", "reservation", "delete", "-g", rg, "-c", "g", "-n", name, "--yes")
    sim.az("capacity", "reservation", "group", "delete", "-g", rg, "-n", "g", "--yes")
    code, _, err = sim.az("capacity", "reservation", "group", "show", "-g", rg, "-n", "g", expect=None)
    assert code != 0 and "not found" in err.lower(), err


def test_status_lists_everything_and_says_what_blocks_the_delete(az_sim):
    landscape(az_sim, "gr-status")
    _, status, _ = group(az_sim, "status", "gr-status")
    assert status["deletable"] is False
    by_name = {s["name"]: s for s in status["scaleSets"]}
    assert set(by_name) == {"u", "f"}
    assert by_name["u"]["state"] == "attached" and by_name["u"]["upgradePolicy"] == "Automatic"
    assert by_name["u"]["instancesOnGroup"] == 2 and by_name["u"]["modelOnGroup"] is True
    assert by_name["f"]["orchestrationMode"] == "Flexible" and by_name["f"]["instancesOnGroup"] == 3
    assert {i["name"]: i["powerState"] for i in by_name["f"]["instances"]} == {
        "f-0": "running", "f-1": "deallocated", "f-2": "running"}
    assert {vm["name"]: vm["powerState"] for vm in status["virtualMachines"]} == {
        "vm-a": "running", "vm-b": "stopped"}
    [reservation] = status["reservations"]
    assert (reservation["name"], reservation["zone"], reservation["capacity"]) == ("r1", "1", 10)
    assert reservation["associated"] == 7 and reservation["overallocated"] is False
    assert len(status["blockers"]) == 3 and "detach" in status["nextAction"]
    _, table, _ = group(az_sim, "status", "gr-status", "-o", "table")
    assert "not deletable" in table and "vm-b" in table


def test_detach_empties_the_group_and_stock_az_deletes_it(az_sim):
    landscape(az_sim, "gr-detach")
    _, plan, _ = group(az_sim, "detach", "gr-detach", "--dry-run")
    assert plan["dryRun"] and {s["target"] for s in plan["steps"]} == {
        "scale set u", "scale set f", "standalone VMs in gr-detach"}
    _, result, _ = group(az_sim, "detach", "gr-detach", "--yes")
    assert result["status"]["deletable"] is False  # the reservation is still there
    assert result["status"]["summary"]["scaleSets"] == 0 and result["status"]["summary"]["virtualMachines"] == 0
    assert any(c.startswith("az capacity reservation group delete") for c in result["deleteCommands"])
    assert_emptied(az_sim, "gr-detach")
    delete_with_stock_az(az_sim, "gr-detach")


def test_progress_to_a_file_is_a_line_per_step_of_each_unit_none_with_only_show_errors(az_sim, tmp_path):
    landscape(az_sim, "gr-prog")
    _, plan, _ = group(az_sim, "detach", "gr-prog", "--dry-run")
    counts = {}
    for step in plan["steps"]:
        counts[step["target"]] = counts.get(step["target"], 0) + 1
    units = {"u": counts["scale set u"], "f": counts["scale set f"],
             "virtual machines of gr-prog": counts["standalone VMs in gr-prog"]}
    code, err = run_to_file(az_sim, tmp_path, "vmss", "capacity-reservation", "detach", "-g", "gr-prog", "--crg", "g",
                            "--yes")
    assert code == 0, err
    assert "\r" not in err and "\x1b" not in err, repr(err)
    lines = err.splitlines()
    for name, total in units.items():
        steps = [re.match(r"^\[\d+:\d\d\] {}: Step (\d+)/(\d+): \S".format(re.escape(name)), line)
                 for line in lines]
        assert [(int(m[1]), int(m[2])) for m in steps if m] == [(n, total) for n in range(1, total + 1)], err
        assert [line for line in lines if re.match(r"^\[\d+:\d\d\] {}: Done: {} steps?\.$".format(
            re.escape(name), total), line)], err
    assert not [line for line in lines if "Step " in line and "WARNING" in line], err
    assert_emptied(az_sim, "gr-prog")

    landscape(az_sim, "gr-quiet")
    code, err = run_to_file(az_sim, tmp_path, "vmss", "capacity-reservation", "detach", "-g", "gr-quiet", "--crg",
                            "g", "--yes", "--only-show-errors")
    assert code == 0 and err == "", err
    assert_emptied(az_sim, "gr-quiet")


def test_delete_group_in_one_command(az_sim):
    landscape(az_sim, "gr-delete")
    _, result, _ = group(az_sim, "detach", "gr-delete", "--delete-group", "--yes")
    assert result["groupDeleted"] is True
    code, _, _ = az_sim.az("capacity", "reservation", "group", "show", "-g", "gr-delete", "-n", "g", expect=None)
    assert code != 0
    assert set(powers(az_sim, "gr-delete", "u").values()) == {"running"}
    assert vm_powers(az_sim, "gr-delete")["vm-a"] == "running"


def test_zero_capacity_sets_the_reservations_to_zero_once(az_sim):
    landscape(az_sim, "gr-zero")
    mark = az_sim.mark()
    _, result, _ = group(az_sim, "detach", "gr-zero", "--strategy", "zero-capacity", "--yes")
    sent = writes(az_sim, mark, "gr-zero")
    assert len([w for w in sent if "/capacityreservations/" in w[1].lower() and w[0] in ("PUT", "PATCH")]) == 1
    assert not [w for w in sent if w[1].endswith("/deallocate")]
    assert result["disruption"]["reservationsSetToZero"]
    assert associated(az_sim, "gr-zero") == []
    assert vm_powers(az_sim, "gr-zero")["vm-b"] == "stopped"


@pytest.mark.parametrize("bad, message", [
    (["-n", "u"], "--name and --crg"),
    ([], "--resource-group"),
])
def test_bad_combinations_are_refused_before_any_write(az_sim, bad, message):
    landscape(az_sim, "gr-bad")
    mark = az_sim.mark()
    args = ["vmss", "capacity-reservation", "detach", "--crg", "g", "--yes"] + bad
    if bad:
        args += ["-g", "gr-bad"]
    code, _, err = az_sim.az(*args, expect=None)
    assert code != 0 and message in err, err
    code, _, err = az_sim.az("vmss", "capacity-reservation", "detach", "-g", "gr-bad", "-n", "u", "--delete-group",
                             "--yes", expect=None)
    assert code != 0 and "--delete-group" in err
    code, _, err = group(az_sim, "detach", "gr-bad", expect=None)  # no terminal to confirm on, and no --yes
    assert code != 0 and "--yes" in err, err
    assert writes(az_sim, mark, "gr-bad") == []


def test_killed_after_some_writes_then_rerun_converges(az_sim):
    reference = "gr-kill-ref"
    landscape(az_sim, reference)
    mark = az_sim.mark()
    group(az_sim, "detach", reference, "--yes")
    total = len(writes(az_sim, mark, reference))
    assert total >= 6
    left_down = []
    for n in sorted({1, 3, total // 2, total - 2}):
        rg = "gr-kill-{}".format(n)
        landscape(az_sim, rg)
        assert run_killed_after_writes(
            az_sim, ["vmss", "capacity-reservation", "detach", "-g", rg, "--crg", "g", "--yes"], n) == -9, n
        # the kill left machines that ran deallocated (and some already off the group): the re-run starts them
        down = [vm for vm, power in vm_powers(az_sim, rg).items() if vm in ("f-0", "f-2", "vm-a") and
                power != "running"] + [i for i, power in powers(az_sim, rg, "u").items() if power != "running"]
        left_down.append(down)
        _, status, _ = group(az_sim, "status", rg)
        assert status["deletable"] is False
        group(az_sim, "detach", rg, "--yes")
        assert_emptied(az_sim, rg)
        delete_with_stock_az(az_sim, rg)
    assert any(left_down), left_down


def test_a_subscription_that_cannot_be_read_is_reported_and_the_detach_refused(az_sim):
    foreign = "/subscriptions/00000000-0000-0000-0000-0000000000ff"
    seed(az_sim, "gr-shared", [crg()], [uniform()])
    az_sim.az("capacity", "reservation", "group", "update", "-g", "gr-shared", "-n", "g", "--sharing-profile", foreign)
    _, status, _ = group(az_sim, "status", "gr-shared")
    assert status["sharedWith"] == [foreign.rsplit("/", 1)[1]]
    [unreadable] = status["unreadable"]
    assert unreadable["id"] == foreign and unreadable["status"] == 403
    assert status["deletable"] is False and any("could not be read" in b for b in status["blockers"])
    mark = az_sim.mark()
    code, _, err = group(az_sim, "detach", "gr-shared", "--yes", expect=None)
    assert code != 0 and "could not be read" in err, err
    assert writes(az_sim, mark, "gr-shared") == []
    assert model_group(az_sim, "gr-shared", "u") is not None


def test_sigint_says_where_each_unit_stopped_and_a_rerun_finishes(tmp_path):
    directory = str(tmp_path / "sim")
    lifecycle.up(directory, lro_seconds=1)
    try:
        sim, rg = Sim(directory), "gr-sigint"
        landscape(sim, rg)
        mark = sim.mark()
        proc = subprocess.Popen([AZ, "vmss", "capacity-reservation", "detach", "-g", rg, "--crg", "g", "--yes"],
                                env=sim.env(), cwd=sim.dir, text=True, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                                preexec_fn=interruptible)
        deadline = time.time() + 120
        while not [w for w in writes(sim, mark, rg) if w[1].lower().endswith("/deallocate")] and \
                time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0, err
        assert re.search(r"^\[\d+:\d\d\] (u|f|virtual machines of gr-sigint): Step 1/\d+: ", err, re.M), err
        for unit in ("scale set u", "scale set f", "standalone VMs in gr-sigint"):
            assert re.search(r"^{}: Stopped (in step \d+/\d+: .*|before the first step\.) Each member now:".format(
                unit), err, re.M), err
        assert "To finish the job, run: az vmss capacity-reservation detach --crg" in err, err
        assert "\r" not in err, repr(err)
        group(sim, "detach", rg, "--yes")
        assert_emptied(sim, rg)
    finally:
        lifecycle.down(directory)
