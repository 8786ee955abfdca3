# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The documents as a test suite: each procedure of ../shared/reference/procedures/ that the CLI can run, its
`az` commands verbatim (placeholders filled in, in the documented order), against a seeded starting landscape;
then the documented end state, read through `az capacity reservation group show --instance-view`, `az vmss show`
and `az vm show`, for each upgrade policy where the document says it matters, and the documented failure when a
step is skipped.

Only the CLI tabs run. The API tabs `PUT .../virtualMachineScaleSets/{name}/update`, which is not an ARM route
(arm-semantics.md §4), and the PowerShell tabs need tools the project does not use.
"""
import pytest

from builders import (at_once, crg, flexible, group_view, instances, latest_models, model_group, refused, seed,
                      uniform, vm_power, wait_until)
from conftest import sim_up

REMOVE = "remove-vmss-from-capacity-reservation-group.md"
FLEX = "associate-flexible-vmss-to-capacity-reservation-group.md"
MODIFY = "modify-a-vmss.md"
POLICIES = ["Automatic", "Rolling", "Manual"]
GROUP, RESERVATION, VMSS = "myCapacityReservationGroup", "myCapacityReservation", "myVMSS"
ROLLING = {"maxBatchInstancePercent": 34, "pause": "PT1M"}  # batches of one; 0.6 s pauses at --pause-scale 0.01


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with sim_up(str(tmp_path_factory.mktemp("procedures")), pause_scale=0.01) as s:
        yield s


def scale_set(policy, zones=(), group=GROUP, name=VMSS):
    return uniform(name, policy=policy, zones=zones, group=group, **(ROLLING if policy == "Rolling" else {}))


def follow_the_policy(sim, rg, policy):
    """The document's "Upgrade policies" section: Automatic and Rolling move the instances without further
    action (Rolling in batches); Manual needs each instance upgraded with the latest scale set model."""
    if policy == "Rolling":  # batch by batch is test_rules' business: here, the end of it
        wait_until(sim, "{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}/rollingUpgrades/latest".format(
            rg, VMSS), lambda latest: latest["properties"]["runningStatus"]["code"] != "RollingForward")
        _, latest, _ = sim.az("vmss", "rolling-upgrade", "get-latest", "--resource-group", rg, "--name", VMSS)
        assert latest["runningStatus"]["code"] == "Completed" and latest["progress"]["successfulInstanceCount"] == 3
    elif policy == "Manual":
        models, (associated, _) = at_once(lambda: latest_models(sim, rg, VMSS), lambda: group_view(sim, rg, GROUP))
        assert models == [False, False, False] and len(associated) == 3  # nothing happens to the instances
        sim.az("vmss", "update-instances", "--resource-group", rg, "--name", VMSS, "--instance-ids", "*")
    assert latest_models(sim, rg, VMSS) == [True, True, True]  # Automatic: at once


# --- remove-vmss-from-capacity-reservation-group.md ------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_remove_by_deallocating(sim, policy):
    """Option 1, CLI tab: deallocate the scale set, set the group to None, then the instances follow."""
    rg = "doc-dealloc-" + policy.lower()
    seed(sim, rg, [crg(GROUP, (), reservation=RESERVATION)], [scale_set(policy)])
    # The document's `az vmss deallocate --location eastus ...` fails: az vmss deallocate has no --location
    # argument (test_document_deallocate_command_has_an_argument_az_refuses). This is what the CLI accepts:
    sim.az("vmss", "deallocate", "--resource-group", rg, "--name", VMSS)
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", "None",
           "-o", "none")
    assert model_group(sim, rg, VMSS) is None
    follow_the_policy(sim, rg, policy)
    view, members = at_once(lambda: group_view(sim, rg, GROUP), lambda: instances(sim, rg, VMSS))
    assert view == ([], []) and {p for p, _ in members.values()} == {"deallocated"}


@pytest.mark.parametrize("policy", POLICIES)
def test_remove_by_setting_the_reserved_quantity_to_zero(sim, policy):
    """Option 2, CLI tab: capacity 0, then the group to None; the instances keep running."""
    rg = "doc-zero-" + policy.lower()
    seed(sim, rg, [crg(GROUP, (), capacity=3, reservation=RESERVATION)], [scale_set(policy)])
    sim.az("capacity", "reservation", "update", "-g", rg, "-c", GROUP, "-n", RESERVATION, "--capacity", "0",
           "-o", "none")
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", "None",
           "-o", "none")
    assert model_group(sim, rg, VMSS) is None
    follow_the_policy(sim, rg, policy)
    view, members, (_, reservation, _) = at_once(
        lambda: group_view(sim, rg, GROUP), lambda: instances(sim, rg, VMSS),
        lambda: sim.az("capacity", "reservation", "show", "-g", rg, "-c", GROUP, "-n", RESERVATION))
    assert view == ([], []) and {p for p, _ in members.values()} == {"running"}
    assert reservation["sku"]["capacity"] == 0


def test_removing_without_either_option_is_refused(sim):
    """Skipping the first step of both options: the scale set is allocated and its reservation not at 0."""
    rg = "doc-skipped"
    seed(sim, rg, [crg(GROUP, (), capacity=3, reservation=RESERVATION)], [scale_set("Automatic")])
    err = refused(sim, "vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group",
                  "None")
    assert "OperationNotAllowed" in err and "(armsim rule A5)" in err
    everyone = ["{}/{}".format(VMSS, n) for n in range(3)]
    assert at_once(lambda: model_group(sim, rg, VMSS), lambda: group_view(sim, rg, GROUP)) == [
        GROUP, (everyone, everyone)]


def test_manual_instances_leave_only_while_allowed(sim):
    """Option 2 with Manual: the reservation must still be at 0 when each instance is upgraded."""
    rg = "doc-zero-manual-late"
    seed(sim, rg, [crg(GROUP, (), capacity=3, reservation=RESERVATION)], [scale_set("Manual")])
    sim.az("capacity", "reservation", "update", "-g", rg, "-c", GROUP, "-n", RESERVATION, "--capacity", "0",
           "-o", "none")
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", "None",
           "-o", "none")
    sim.az("capacity", "reservation", "update", "-g", rg, "-c", GROUP, "-n", RESERVATION, "--capacity", "3",
           "-o", "none")
    err = refused(sim, "vmss", "update-instances", "--resource-group", rg, "--name", VMSS, "--instance-ids", "*")
    assert "OperationNotAllowed" in err and "(armsim rule A5)" in err
    models, (associated, _) = at_once(lambda: latest_models(sim, rg, VMSS), lambda: group_view(sim, rg, GROUP))
    assert models == [False, False, False] and len(associated) == 3


def test_remove_a_flexible_scale_set(sim):
    """The document applies to Flexible scale sets too: the profile changes, and (rule A7) each member VM is
    changed through its own VM API, as the Flexible document says."""
    rg = "doc-remove-flex"
    seed(sim, rg, [crg(GROUP, ("1",), capacity=2)], [flexible(VMSS, policy="Automatic", group=GROUP)])
    members = sorted(group_view(sim, rg, GROUP)[0])
    assert len(members) == 2
    sim.az("capacity", "reservation", "update", "-g", rg, "-c", GROUP, "-n", "r1", "--capacity", "0", "-o", "none")
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", "None",
           "-o", "none")
    assert at_once(lambda: model_group(sim, rg, VMSS), lambda: group_view(sim, rg, GROUP)[0]) == [None, members]
    at_once(*[lambda n=n: sim.az("vm", "update", "--resource-group", rg, "--name", n,
                                 "--capacity-reservation-group", "None", "-o", "none") for n in members])
    assert at_once(lambda: group_view(sim, rg, GROUP), *[lambda n=n: vm_power(sim, rg, n) for n in members]) == [
        ([], [])] + ["running"] * len(members)


def test_document_deallocate_command_has_an_argument_az_refuses(sim):
    err = refused(sim, "vmss", "deallocate", "--location", "eastus", "--resource-group", "myResourceGroup",
                  "--name", VMSS)
    assert "unrecognized arguments: --location eastus" in err


# --- associate-flexible-vmss-to-capacity-reservation-group.md: an existing scale set ---------------------------
@pytest.mark.parametrize("policy", ["Automatic", "Manual"])
def test_associate_zonal_flexible_through_profile_and_each_vm(sim, policy):
    """Two steps: the scale set (its profile), then each deployed VM, "depending on the upgrade mode". In
    armsim's reading of A7 the mode changes nothing (Rolling behaves as Automatic): every existing VM needs its
    own update. A zonal VM is associated in place (associate-vm, doc R7)."""
    rg = "doc-flex-" + policy.lower()
    seed(sim, rg, [crg(GROUP, ("1",))], [flexible(VMSS, policy=policy, capacity=2)])
    _, members, _ = sim.az("vm", "list", "-g", rg, "--vmss", VMSS, "--query", "[].name")
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", GROUP,
           "-o", "none")
    assert at_once(lambda: model_group(sim, rg, VMSS), lambda: group_view(sim, rg, GROUP)) == [GROUP, ([], [])]
    at_once(*[lambda n=n: sim.az("vm", "update", "--resource-group", rg, "--name", n,
                                 "--capacity-reservation-group", GROUP, "-o", "none") for n in members])
    assert group_view(sim, rg, GROUP) == (sorted(members), sorted(members))
    sim.az("vmss", "scale", "--resource-group", rg, "--name", VMSS, "--new-capacity", "3", "-o", "none")
    assert len(group_view(sim, rg, GROUP)[0]) == 3  # the profile governs VMs created from now on


def test_associate_regional_flexible_deallocates_each_vm(sim):
    """A regional VM is associated deallocated: deallocate, update, start (associate-vm, doc R7); skipping the
    deallocation is refused."""
    rg = "doc-flex-regional"
    seed(sim, rg, [crg(GROUP, ())], [flexible(VMSS, zones=(), capacity=2)])
    _, members, _ = sim.az("vm", "list", "-g", rg, "--vmss", VMSS, "--query", "[].name")
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--capacity-reservation-group", GROUP,
           "-o", "none")
    err = refused(sim, "vm", "update", "--resource-group", rg, "--name", members[0], "--capacity-reservation-group",
                  GROUP)
    assert "OperationNotAllowed" in err and "(armsim rule A3)" in err

    def associate(name):  # each VM on its own, all at the same time
        sim.az("vm", "deallocate", "--resource-group", rg, "--name", name)
        sim.az("vm", "update", "--resource-group", rg, "--name", name, "--capacity-reservation-group", GROUP,
               "-o", "none")
        sim.az("vm", "start", "--resource-group", rg, "--name", name)

    at_once(*[lambda n=n: associate(n) for n in members])
    assert group_view(sim, rg, GROUP) == (sorted(members), sorted(members))


# --- modify-a-vmss.md: bring VMs up to date with the latest scale set model ---------------------------------
@pytest.mark.parametrize("policy", POLICIES)
def test_bring_vms_up_to_date(sim, policy):
    """The document's OS image example, then each mode: Automatic and Rolling update the instances, Manual
    waits for `az vmss update-instances --instance-ids {instanceIds}`."""
    rg = "doc-modify-" + policy.lower()
    seed(sim, rg, [crg(GROUP, ())], [scale_set(policy, name=VMSS)])
    sim.az("vmss", "update", "--resource-group", rg, "--name", VMSS, "--set",
           "virtualMachineProfile.storageProfile.imageReference.version=16.04.201801090", "-o", "none")
    if policy == "Manual":
        assert latest_models(sim, rg, VMSS) == [False, False, False]
        for ids, after in ((["0", "1"], [True, True, False]), (["2"], [True, True, True])):
            sim.az("vmss", "update-instances", "--resource-group", rg, "--name", VMSS, "--instance-ids", *ids)
            assert latest_models(sim, rg, VMSS) == after
    else:
        follow_the_policy(sim, rg, policy)
    _, instance, _ = sim.az("vmss", "show", "--resource-group", rg, "--name", VMSS, "--instance-id", "2")
    assert instance["storageProfile"]["imageReference"]["version"] == "16.04.201801090"
    assert len(group_view(sim, rg, GROUP)[0]) == 3  # a model change that keeps the group keeps the association
