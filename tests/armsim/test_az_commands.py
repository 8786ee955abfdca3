# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Stock `az` (the pinned azure-cli) against armsim: the commands users and the documents run."""
import re

import pytest

RG = "cmds-rg"
LANDSCAPE = {"location": "eastus", "resourceGroups": [{
    "name": RG,
    "capacityReservationGroups": [{"name": "crg", "zones": ["1"],
                                   "reservations": [{"name": "d2s", "sku": "Standard_D2s_v3", "capacity": 2,
                                                     "zone": "1"}]}],
    "scaleSets": [
        {"name": "uni", "orchestrationMode": "Uniform", "upgradePolicy": "Manual", "sku": "Standard_D2s_v3",
         "capacity": 3, "zones": ["1"], "capacityReservationGroup": "crg", "power": {"2": "deallocated"}},
        {"name": "flex", "orchestrationMode": "Flexible", "profile": False, "members": [
            {"name": "flex-0", "zone": "1", "capacityReservationGroup": "crg"},
            {"name": "flex-1", "zone": "1", "power": "deallocated"}]},
        {"name": "flexp", "orchestrationMode": "Flexible", "sku": "Standard_D2s_v3", "capacity": 2},
    ]}]}


@pytest.fixture(scope="module")
def sim(az_sim):
    az_sim.seed(LANDSCAPE)
    return az_sim


def power(instance_view):
    return [s["code"] for s in instance_view["statuses"] if s["code"].startswith("PowerState/")][0]


def test_group_and_vnet_create(sim):
    _, rg, _ = sim.az("group", "create", "-n", "cmds-new", "-l", "westeurope")
    assert rg["properties"]["provisioningState"] == "Succeeded" and rg["location"] == "westeurope"
    _, vnet, _ = sim.az("network", "vnet", "create", "-g", "cmds-new", "-n", "v", "--address-prefix", "10.1.0.0/16",
                        "--subnet-name", "s", "--subnet-prefix", "10.1.0.0/24")
    assert vnet["newVNet"]["subnets"][0]["id"].endswith("/virtualNetworks/v/subnets/s")
    _, shown, _ = sim.az("group", "show", "-n", "cmds-new")
    assert shown["name"] == "cmds-new"
    _, names, _ = sim.az("group", "list", "--query", "[].name")
    assert "cmds-new" in names
    sim.az("group", "delete", "-n", "cmds-new", "--yes")
    code, _, err = sim.az("group", "show", "-n", "cmds-new", expect=3)
    assert "ResourceGroupNotFound" in err or "could not be found" in err


def test_capacity_reservation_commands(sim):
    _, group, _ = sim.az("capacity", "reservation", "group", "create", "-g", RG, "-n", "crg2", "--zones", "1", "2")
    assert group["zones"] == ["1", "2"] and group["type"] == "Microsoft.Compute/capacityReservationGroups"
    _, res, _ = sim.az("capacity", "reservation", "create", "-g", RG, "-c", "crg2", "-n", "r", "--sku",
                       "Standard_D4s_v3", "--capacity", "3", "--zone", "2")
    assert res["sku"] == {"name": "Standard_D4s_v3", "capacity": 3} and res["provisioningState"] == "Succeeded"
    assert res["platformFaultDomainCount"] == 3 and res["reservationId"]
    _, res, _ = sim.az("capacity", "reservation", "update", "-g", RG, "-c", "crg2", "-n", "r", "--capacity", "0")
    assert res["sku"]["capacity"] == 0
    _, shown, _ = sim.az("capacity", "reservation", "show", "-g", RG, "-c", "crg2", "-n", "r")
    assert shown["sku"]["capacity"] == 0
    _, listed, _ = sim.az("capacity", "reservation", "list", "-g", RG, "-c", "crg2", "--query", "[].name")
    assert listed == ["r"]
    _, groups, _ = sim.az("capacity", "reservation", "group", "list", "-g", RG, "--query", "[].name")
    assert sorted(groups) == ["crg", "crg2"]


def test_group_instance_view_accounts_for_consumers(sim):
    _, group, _ = sim.az("capacity", "reservation", "group", "show", "-g", RG, "-n", "crg", "--instance-view")
    associated = sorted(v["id"].split("/providers/")[1] for v in group["virtualMachinesAssociated"])
    assert associated == ["Microsoft.Compute/virtualMachineScaleSets/uni/virtualMachines/0",
                          "Microsoft.Compute/virtualMachineScaleSets/uni/virtualMachines/1",
                          "Microsoft.Compute/virtualMachineScaleSets/uni/virtualMachines/2",
                          "Microsoft.Compute/virtualMachines/flex-0"]
    info = group["instanceView"]["capacityReservations"][0]["utilizationInfo"]
    assert info["currentCapacity"] == 2
    # instance 2 is deallocated: associated but not allocated; three allocated on a reservation of 2 (C2)
    assert len(info["virtualMachinesAllocated"]) == 3


def test_vmss_show_list_instance_view(sim):
    _, vmss, _ = sim.az("vmss", "show", "-g", RG, "-n", "uni")
    assert vmss["orchestrationMode"] == "Uniform" and vmss["upgradePolicy"]["mode"] == "Manual"
    assert vmss["virtualMachineProfile"]["capacityReservation"]["capacityReservationGroup"]["id"].endswith("/crg")
    _, names, _ = sim.az("vmss", "list", "-g", RG, "--query", "[].name")
    assert sorted(names) == ["flex", "flexp", "uni"]
    _, view, _ = sim.az("vmss", "get-instance-view", "-g", RG, "-n", "uni")
    summary = {s["code"]: s["count"] for s in view["virtualMachine"]["statusesSummary"]}
    assert summary["PowerState/running"] == 2 and summary["PowerState/deallocated"] == 1
    _, one, _ = sim.az("vmss", "get-instance-view", "-g", RG, "-n", "uni", "--instance-id", "2")
    assert power(one) == "PowerState/deallocated"


def test_list_instances_uniform_and_flexible(sim):
    _, uni, _ = sim.az("vmss", "list-instances", "-g", RG, "-n", "uni")
    assert [i["instanceId"] for i in uni] == ["0", "1", "2"]
    assert all(i["latestModelApplied"] for i in uni) and uni[0]["name"] == "uni_0"
    _, flex, _ = sim.az("vmss", "list-instances", "-g", RG, "-n", "flex")
    assert sorted(i["name"] for i in flex) == ["flex-0", "flex-1"]
    assert all(set(i) >= {"id", "instanceId", "name", "location"} for i in flex)
    _, flexp, _ = sim.az("vmss", "list-instances", "-g", RG, "-n", "flexp")
    assert len(flexp) == 2 and all(i["name"].startswith("flexp_") for i in flexp)


def test_vmss_power_update_and_upgrade(sim):
    _, _, err = sim.az("vmss", "deallocate", "-g", RG, "-n", "uni", "--debug")
    # at the default settings, Azure's answer (W6) and az polling the operation it names
    assert "Response status: 202" in err and "'Azure-AsyncOperation'" in err
    assert re.search(r"Request URL: '[^']*/providers/Microsoft\.Compute/locations/\w+/operations/", err), err[-3000:]
    _, view, _ = sim.az("vmss", "get-instance-view", "-g", RG, "-n", "uni", "--instance-id", "*")
    assert {power(v) for v in view} == {"PowerState/deallocated"}
    sim.az("vmss", "start", "-g", RG, "-n", "uni", "--instance-ids", "0", "1")
    _, view, _ = sim.az("vmss", "get-instance-view", "-g", RG, "-n", "uni", "--instance-id", "*")
    assert [power(v) for v in view] == ["PowerState/running", "PowerState/running", "PowerState/deallocated"]
    _, vmss, _ = sim.az("vmss", "update", "-g", RG, "-n", "uni", "--set", "tags.x=y")
    assert vmss["tags"] == {"x": "y"}
    # the property's own casing: with "diskSizeGb" az sets nothing Azure reads, and the model does not change
    _, vmss, _ = sim.az("vmss", "update", "-g", RG, "-n", "uni", "--set",
                        "virtualMachineProfile.storageProfile.osDisk.diskSizeGB=64")
    assert vmss["virtualMachineProfile"]["storageProfile"]["osDisk"]["diskSizeGB"] == 64
    _, uni, _ = sim.az("vmss", "list-instances", "-g", RG, "-n", "uni", "--query", "[].latestModelApplied")
    assert uni == [False, False, False]  # Manual policy: nothing applied until update-instances (A6)
    sim.az("vmss", "update-instances", "-g", RG, "-n", "uni", "--instance-ids", "*")
    _, uni, _ = sim.az("vmss", "list-instances", "-g", RG, "-n", "uni", "--query", "[].latestModelApplied")
    assert uni == [True, True, True]


def test_vm_commands(sim):
    _, vm, _ = sim.az("vm", "show", "-d", "-g", RG, "-n", "flex-0")
    assert vm["powerState"] == "VM running" and vm["privateIps"].startswith("10.0.")
    assert vm["virtualMachineScaleSet"]["id"].endswith("/virtualMachineScaleSets/flex")
    assert vm["capacityReservation"]["capacityReservationGroup"]["id"].endswith("/capacityReservationGroups/crg")
    _, names, _ = sim.az("vm", "list", "-g", RG, "--query", "[].name")
    assert {"flex-0", "flex-1"} <= set(names) and len([n for n in names if n.startswith("flexp_")]) == 2
    _, members, _ = sim.az("vm", "list", "-g", RG, "--vmss", "flex", "--query", "[].name")
    assert sorted(members) == ["flex-0", "flex-1"]
    sim.az("vm", "deallocate", "-g", RG, "-n", "flex-0")
    _, vm, _ = sim.az("vm", "show", "-d", "-g", RG, "-n", "flex-0")
    assert vm["powerState"] == "VM deallocated"
    sim.az("vm", "start", "-g", RG, "-n", "flex-0")
    _, vm, _ = sim.az("vm", "get-instance-view", "-g", RG, "-n", "flex-0")
    assert power(vm["instanceView"]) == "PowerState/running"
    _, vm, _ = sim.az("vm", "update", "-g", RG, "-n", "flex-0", "--set", "tags.x=y")
    assert vm["tags"] == {"x": "y"}


def test_az_rest_get(sim):
    url = "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/uni" \
          "?api-version=2024-11-01".format(sim.env()["ARMSIM_URL"], sim.sub, RG)
    _, body, _ = sim.az("rest", "--method", "get", "--url", url)
    assert body["name"] == "uni" and body["properties"]["orchestrationMode"] == "Uniform"


def test_missing_resources_exit_3(sim):
    code, _, err = sim.az("vmss", "show", "-g", RG, "-n", "nope", expect=3)
    assert "ResourceNotFound" in err
    sim.az("vmss", "show", "-g", "no-such-rg", "-n", "uni", expect=3)
