# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`az vmss capacity-reservation attach` with the installed wheel against armsim; end state through stock az."""
import pytest

from landscapes import (SIZE, associated, crg, flexible, member, model_group, move, powers,
                        run_killed_after_writes, seed, uniform, vm_group, writes)


def instance_ids(scale_set, ids):
    return sorted("virtualMachineScaleSets/{}/virtualMachines/{}".format(scale_set, i) for i in ids)


@pytest.mark.parametrize("policy", ["Automatic", "Rolling", "Manual"])
@pytest.mark.parametrize("zones", [("1",), ()])
def test_uniform_each_policy_zonal_and_regional(az_sim, policy, zones):
    rg = "at-u-{}-{}".format(policy, "zonal" if zones else "regional").lower()
    seed(az_sim, rg, [crg(zones=zones)], [uniform(policy=policy, zones=zones, group=None,
                                                  power={"1": "deallocated"})])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", rg, "u", "--crg", "g", "--yes")
    assert result["status"]["state"] == "attached"
    assert model_group(az_sim, rg, "u").lower().endswith("/capacityreservationgroups/g")
    assert associated(az_sim, rg) == instance_ids("u", "012")
    assert powers(az_sim, rg, "u") == {"0": "running", "1": "deallocated", "2": "running"}
    deallocations = [w for w in writes(az_sim, mark, rg) if w[1].endswith("/deallocate")]
    assert bool(deallocations) == (not zones)  # zonal: in place; regional: deallocated, attached, started


@pytest.mark.parametrize("zones", [("1",), ()])
def test_flexible_without_profile_mixed_power(az_sim, zones):
    rg = "at-fx-" + ("zonal" if zones else "regional")
    names = ["m-{}".format(n) for n in range(5)]
    power = ["running", "deallocated", "running", "running", "deallocated"]
    seed(az_sim, rg, [crg(zones=zones)], [flexible(members=[
        member(n, zone=zones[0] if zones else None, group=None, power=p) for n, p in zip(names, power)])])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", rg, "f", "--crg", "g", "--yes")
    assert result["status"]["state"] == "attached"
    assert all(vm_group(az_sim, rg, n).lower().endswith("/g") for n in names)
    assert powers(az_sim, rg, "f", names) == dict(zip(names, power))
    deallocated = [w for w in writes(az_sim, mark, rg) if w[1].endswith("/deallocate")]
    assert bool(deallocated) == (not zones)


def test_flexible_with_profile(az_sim):
    seed(az_sim, "at-fp", [crg()], [flexible(profile=True, capacity=2, group=None)])
    _, result, _ = move(az_sim, "attach", "at-fp", "f", "--crg", "g", "--yes")
    assert model_group(az_sim, "at-fp", "f").lower().endswith("/g")
    assert result["status"]["state"] == "attached" and len(associated(az_sim, "at-fp")) == 2


def test_switch_from_one_group_to_another(az_sim):
    seed(az_sim, "at-sw", [crg("a"), crg("b")], [uniform(group="a", policy="Automatic")])
    _, planned, _ = move(az_sim, "attach", "at-sw", "u", "--crg", "b", "--dry-run")
    assert [s["action"] for s in planned["steps"]] == ["deallocate", "setModelGroup", "waitForUpgrade", "start"]
    _, result, _ = move(az_sim, "attach", "at-sw", "u", "--crg", "b", "--yes")
    assert result["status"]["state"] == "attached"
    assert associated(az_sim, "at-sw", "a") == [] and associated(az_sim, "at-sw", "b") == instance_ids("u", "012")
    assert set(powers(az_sim, "at-sw", "u").values()) == {"running"}


def test_overallocation_is_warned_before_the_prompt(az_sim):
    seed(az_sim, "at-over", [crg(capacity=1)], [uniform(group=None)])
    _, result, err = move(az_sim, "attach", "at-over", "u", "--crg", "g", "--dry-run")
    assert "overallocate it by 2" in err and result["warnings"]


def test_already_attached_writes_nothing(az_sim):
    seed(az_sim, "at-done", [crg()], [uniform()])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", "at-done", "u", "--crg", "g")
    assert result["steps"] == [] and writes(az_sim, mark) == []


def test_dry_run_writes_nothing(az_sim):
    seed(az_sim, "at-dry", [crg(zones=())], [uniform(zones=(), group=None)])
    mark = az_sim.mark()
    _, result, _ = move(az_sim, "attach", "at-dry", "u", "--crg", "g", "--dry-run")
    assert result["dryRun"] and result["disruption"]["instancesDeallocated"] == 3 and writes(az_sim, mark) == []


VALIDATION = [
    # (landscape groups, scale set spec, --crg, text in the error)
    ([], {}, "missing", "was not found"),
    ([dict(crg(), name="west")], {}, "/subscriptions/{sub}/resourceGroups/at-west/providers/Microsoft.Compute/"
                                     "capacityReservationGroups/west", "same region"),
    ([crg(zones=("1",))], {"zones": ()}, "g", "regional group"),
    ([crg(zones=("1",))], {"zones": ("1", "2")}, "g", "covers zones"),
    ([{"name": "g", "zones": ["1"],
       "reservations": [{"name": "e", "sku": "Standard_E4s_v5", "capacity": 3, "zone": "1"}]}],
     {}, "g", "no reservation for size " + SIZE),
    ([crg()], {"singlePlacementGroup": True}, "g", "singlePlacementGroup"),
    ([crg()], {"platformFaultDomainCount": 5}, "g", "fault domains"),
    ([crg()], {"priority": "Spot"}, "g", "Spot"),
    ([crg()], {}, "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z",
     "not the id of a capacity reservation group"),
    ([crg()], {}, "bad name!", "not a valid group name"),
]


@pytest.mark.parametrize("groups, extra, group_arg, text", VALIDATION)
def test_validation_errors_write_nothing(az_sim, groups, extra, group_arg, text):
    rg = "at-val-{}".format(VALIDATION.index((groups, extra, group_arg, text)))
    if "at-west" in group_arg:
        az_sim.seed({"resourceGroups": [{"name": "at-west", "location": "westus", "capacityReservationGroups": [
            dict(crg(), name="west")]}]})
    seed(az_sim, rg, [g for g in groups if g["name"] != "west"], [uniform(group=None, **extra)])
    mark = az_sim.mark()
    code, _, err = move(az_sim, "attach", rg, "u", "--crg", group_arg.format(sub=az_sim.sub), "--yes", expect=None)
    assert code != 0 and text in err, err
    assert writes(az_sim, mark) == []


@pytest.mark.parametrize("kind", ["uniform", "flexible"])
def test_killed_after_each_write_then_rerun_converges(az_sim, kind):
    names = ["k-{}".format(n) for n in range(4)]
    if kind == "uniform":
        spec, name = uniform(zones=(), group=None, power={"2": "deallocated"}), "u"
        expected = {"0": "running", "1": "running", "2": "deallocated"}
    else:
        spec, name = flexible(members=[member(n, zone=None, group=None, power="deallocated" if n == "k-2"
                                              else "running") for n in names]), "f"
        expected = {"k-0": "running", "k-1": "running", "k-2": "deallocated", "k-3": "running"}
    args = ["--crg", "g", "--yes", "--max-unavailable", "50"]
    groups = [crg(zones=())]
    seed(az_sim, "at-kill-{}-ref".format(kind), groups, [spec])
    mark = az_sim.mark()
    move(az_sim, "attach", "at-kill-{}-ref".format(kind), name, *args)
    total = len(writes(az_sim, mark))
    assert total >= 4
    for n in range(1, total):
        rg = "at-kill-{}-{}".format(kind, n)
        seed(az_sim, rg, groups, [spec])
        run_killed_after_writes(az_sim, ["vmss", "capacity-reservation", "attach", "-g", rg, "-n", name] + args, n)
        _, result, err = move(az_sim, "attach", rg, name, *args)
        assert result["status"]["state"] == "attached", n
        got = powers(az_sim, rg, name, None if kind == "uniform" else names)
        assert got == expected, (n, got, [(s["action"], s["targets"]) for s in result["steps"]], err[-1500:])


@pytest.mark.parametrize("kind", ["uniform-zonal", "uniform-regional", "flexible", "flexible-profile"])
def test_round_trip_attach_detach_attach(az_sim, kind):
    rg = "at-rt-" + kind
    zones = () if kind == "uniform-regional" else ("1",)
    names = ["rt-0", "rt-1", "rt-2"]
    if kind.startswith("uniform"):
        spec, name, members = uniform(zones=zones, group=None, power={"0": "deallocated"}), "u", None
    elif kind == "flexible":
        spec, name, members = flexible(members=[member(n, group=None, power="deallocated" if n == "rt-0"
                                                       else "running") for n in names]), "f", names
    else:
        spec, name, members = flexible(profile=True, capacity=2, group=None), "f", "all"
    seed(az_sim, rg, [crg(zones=zones)], [spec])
    before = powers(az_sim, rg, name, members)
    for verb in ("attach", "detach", "attach"):
        extra = ["--crg", "g"] if verb == "attach" else []
        move(az_sim, verb, rg, name, *extra, "--yes")
    _, status, _ = az_sim.az("vmss", "capacity-reservation", "status", "-g", rg, "-n", name)
    assert status["state"] == "attached"
    after = powers(az_sim, rg, name, members)
    assert all(after[k] == "running" for k, v in before.items() if v == "running")
