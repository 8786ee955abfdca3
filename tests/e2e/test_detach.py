# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`az vmss capacity-reservation detach` with the installed wheel against armsim; end state through stock az."""
import pytest

from landscapes import (associated, capacities, crg, flexible, member, model_group, move, powers,
                        run_killed_after_writes, seed, uniform, vm_group, writes)


@pytest.mark.parametrize("policy", ["Automatic", "Rolling", "Manual"])
@pytest.mark.parametrize("strategy", ["deallocate", "zero-capacity"])
def test_uniform_each_policy_and_strategy(az_sim, policy, strategy):
    rg = "dt-u-{}-{}".format(policy, strategy).lower()
    seed(az_sim, rg, [crg()], [uniform(policy=policy, power={"1": "deallocated"})])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "detach", rg, "u", "--strategy", strategy, "--yes")
    assert result["status"]["state"] == "detached" and all(s["outcome"] == "succeeded" for s in result["steps"])
    assert model_group(az_sim, rg, "u") is None and associated(az_sim, rg) == []
    assert powers(az_sim, rg, "u") == {"0": "running", "1": "deallocated", "2": "running"}
    sent = writes(az_sim, mark, rg)
    if strategy == "zero-capacity":
        assert capacities(az_sim, rg) == {"r1": 0}
        assert not [w for w in sent if w[1].endswith("/deallocate")]
    else:
        assert capacities(az_sim, rg) == {"r1": 10}
        assert [w for w in sent if w[1].endswith("/deallocate")]


def test_regional_uniform(az_sim):
    seed(az_sim, "dt-reg", [crg(zones=())], [uniform(zones=(), policy="Automatic")])
    move(az_sim, "detach", "dt-reg", "u", "--yes")
    assert model_group(az_sim, "dt-reg", "u") is None and associated(az_sim, "dt-reg") == []
    assert set(powers(az_sim, "dt-reg", "u").values()) == {"running"}


def test_flexible_without_profile_mixed_power(az_sim):
    names = ["fx-{}".format(n) for n in range(6)]
    power = ["running", "deallocated", "stopped", "running", "running", "deallocated"]
    members = [member(n, power=p) for n, p in zip(names, power)]
    seed(az_sim, "dt-fx", [crg()], [flexible(members=members)])
    _, result, _ = move(az_sim, "detach", "dt-fx", "f", "--max-unavailable", "34", "--yes")
    assert result["status"]["state"] == "detached"
    assert associated(az_sim, "dt-fx") == [] and all(vm_group(az_sim, "dt-fx", n) is None for n in names)
    # running members run again; a stopped (allocated, not running) member had to be deallocated to move
    assert powers(az_sim, "dt-fx", "f", names) == {
        "fx-0": "running", "fx-1": "deallocated", "fx-2": "deallocated", "fx-3": "running", "fx-4": "running",
        "fx-5": "deallocated"}
    batches = {s.get("batch") for s in result["steps"] if s["action"] == "deallocate"}
    assert len(batches) == 2  # 4 allocated members, at most 34% of 6 (2) at a time


def test_flexible_with_profile(az_sim):
    seed(az_sim, "dt-fp", [crg()], [flexible(profile=True, capacity=3)])
    _, result, _ = move(az_sim, "detach", "dt-fp", "f", "--yes")
    assert result["strategy"] == "deallocate"  # the default, as a value
    assert model_group(az_sim, "dt-fp", "f") is None and associated(az_sim, "dt-fp") == []
    assert result["status"]["summary"]["instances"] == 3
    assert {i["powerState"] for i in result["status"]["instances"]} == {"running"}


def test_already_detached_writes_nothing(az_sim):
    seed(az_sim, "dt-none", [], [uniform(group=None)])
    mark = az_sim.mark()
    _, result, err = move(az_sim, "detach", "dt-none", "u")  # no --yes needed: nothing to confirm
    assert result["steps"] == [] and result["status"]["state"] == "detached" and "Nothing to do" in err
    assert writes(az_sim, mark) == []


def test_partially_detached_is_finished(az_sim):
    seed(az_sim, "dt-part", [crg()], [uniform(policy="Manual")])
    az_sim.az("vmss", "deallocate", "-g", "dt-part", "-n", "u")
    az_sim.az("vmss", "update", "-g", "dt-part", "-n", "u", "--capacity-reservation-group", "None")
    az_sim.az("vmss", "update-instances", "-g", "dt-part", "-n", "u", "--instance-ids", "0")
    az_sim.az("vmss", "start", "-g", "dt-part", "-n", "u")
    _, result, _ = move(az_sim, "detach", "dt-part", "u", "--yes")
    assert [s["action"] for s in result["steps"]][:1] == ["deallocate"]
    assert associated(az_sim, "dt-part") == [] and set(powers(az_sim, "dt-part", "u").values()) == {"running"}


def test_shared_group_zero_capacity_refused_then_forced(az_sim):
    other = {"name": "other", "zone": "1", "capacityReservationGroup": "g"}
    seed(az_sim, "dt-shared", [crg()], [uniform()], vms=[other])
    mark = az_sim.mark()
    code, _, err = move(az_sim, "detach", "dt-shared", "u", "--strategy", "zero-capacity", "--yes", expect=None)
    assert code != 0 and "other" in err and "--force" in err
    assert writes(az_sim, mark) == []
    move(az_sim, "detach", "dt-shared", "u", "--strategy", "zero-capacity", "--force", "--yes")
    assert associated(az_sim, "dt-shared") == ["virtualMachines/other"] and capacities(az_sim, "dt-shared") == {
        "r1": 0}


def test_ephemeral_os_disk(az_sim):
    seed(az_sim, "dt-eph", [crg()], [uniform(ephemeralOsDisk=True)])
    mark = az_sim.mark()
    code, _, err = move(az_sim, "detach", "dt-eph", "u", "--yes", expect=None)
    assert code != 0 and "ephemeral" in err and "zero-capacity" in err and writes(az_sim, mark) == []
    move(az_sim, "detach", "dt-eph", "u", "--strategy", "zero-capacity", "--yes")
    assert associated(az_sim, "dt-eph") == []


def test_dry_run_writes_nothing(az_sim):
    seed(az_sim, "dt-dry", [crg()], [uniform()])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "detach", "dt-dry", "u", "--dry-run")
    assert result["dryRun"] is True and [s["action"] for s in result["steps"]] == [
        "deallocate", "setModelGroup", "upgradeInstances", "start"]
    assert all(s["reason"] for s in result["steps"]) and result["disruption"]["instancesDeallocated"] == 3
    assert writes(az_sim, mark) == [] and len(associated(az_sim, "dt-dry")) == 3


def test_no_terminal_and_no_yes_refuses(az_sim):
    seed(az_sim, "dt-tty", [crg()], [uniform()])
    mark = az_sim.mark()
    code, _, err = move(az_sim, "detach", "dt-tty", "u", expect=None)
    assert code != 0 and "--yes" in err and writes(az_sim, mark) == []


def test_leave_deallocated(az_sim):
    seed(az_sim, "dt-leave", [crg()], [uniform()])
    move(az_sim, "detach", "dt-leave", "u", "--leave-deallocated", "--yes")
    assert set(powers(az_sim, "dt-leave", "u").values()) == {"deallocated"}
    assert associated(az_sim, "dt-leave") == []


@pytest.mark.parametrize("kind", ["uniform", "flexible"])
def test_killed_after_each_write_then_rerun_converges(az_sim, kind):
    names = ["k-{}".format(n) for n in range(4)]
    if kind == "uniform":
        spec, name, expected = uniform(power={"2": "deallocated"}), "u", {"0": "running", "1": "running",
                                                                          "2": "deallocated"}
    else:
        spec, name = flexible(members=[member(n, power="deallocated" if n == "k-2" else "running")
                                       for n in names]), "f"
        expected = {"k-0": "running", "k-1": "running", "k-2": "deallocated", "k-3": "running"}
    args = ["--yes", "--max-unavailable", "50"]
    reference = "dt-kill-{}-ref".format(kind)
    seed(az_sim, reference, [crg()], [spec])
    mark = az_sim.mark()
    move(az_sim, "detach", reference, name, *args)
    total = len(writes(az_sim, mark))
    assert total >= 4
    for n in range(1, total):
        rg = "dt-kill-{}-{}".format(kind, n)
        seed(az_sim, rg, [crg()], [spec])
        run_killed_after_writes(az_sim, ["vmss", "capacity-reservation", "detach", "-g", rg, "-n", name] + args, n)
        _, result, _ = move(az_sim, "detach", rg, name, *args)
        assert result["status"]["state"] == "detached", n
        assert associated(az_sim, rg) == [], n
        got = powers(az_sim, rg, name, None if kind == "uniform" else names)
        assert got == expected, (n, got)
