# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""On-demand capacity runs out (rules K1-K7), observed through stock `az`: exit codes, Azure's error codes and texts,
power states and reservations read back, and GET /simulator/capacity.

Two simulators started with `up --capacity eastus:Standard_D2s_v3=0`: `sim` answers at once (--lro-seconds 0),
`slow` with operations that take a second. Each test uses its own VM size, so that its pools are its own.
"""

import pytest

from armsim import lifecycle
from armsim.models import allocation
from builders import at_once, crg, group_view, instances, refused, seed, uniform, vm, vm_power
from conftest import sims_up

D2 = "Standard_D2s_v3"
OPTIONS = {"sim": dict(capacity=["eastus:" + D2 + "=0"]),
           "slow": dict(capacity=["eastus:" + D2 + "=0"], lro_seconds=1)}


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    with sims_up(tmp_path_factory, "capacity-", OPTIONS) as sims:
        yield sims


@pytest.fixture(scope="module", params=list(OPTIONS))
def either(request, sims):
    """Each test that takes it runs against both simulators: answers at once and operations that take time."""
    return sims[request.param]


@pytest.fixture(scope="module")
def sim(sims):
    return sims["sim"]


def pools(sim):
    """GET /simulator/capacity."""
    status, _, answer = sim.client.call("GET", "/simulator/capacity", auth=False)
    assert status == 200, answer
    return answer


def set_pools(sim, mapping):
    status, _, answer = sim.client.call("POST", "/simulator/capacity", {"pools": mapping}, auth=False)
    assert status == 200, answer
    return answer


def free(sim, name):
    return pools(sim)["pools"].get(name)


def failures(sim):
    return pools(sim)["allocationFailures"]


# --- the acceptance: stock az against `up --capacity eastus:Standard_D2s_v3=0` ---------------------------------
def test_k2_k3_start_without_reservation_fails_on_a_group_with_room_starts(either):
    sim = either
    seed(sim, "k2", [crg("g", zones=(), capacity=1)], [], [vm("v", zone=None, group=None, power="deallocated")])
    before = failures(sim)
    err = refused(sim, "vm", "start", "-g", "k2", "-n", "v")
    assert "(AllocationFailed)" in err and allocation.REGION_MSG in err, err
    assert vm_power(sim, "k2", "v") == "deallocated"  # K3: Azure leaves it deallocated
    assert failures(sim) == before + 1  # K7
    sim.az("vm", "update", "-g", "k2", "-n", "v", "--capacity-reservation-group", "g", "-o", "none")
    sim.az("vm", "start", "-g", "k2", "-n", "v", "-o", "none")  # K2: the reservation has room
    assert vm_power(sim, "k2", "v") == "running"
    assert group_view(sim, "k2") == (["v"], ["v"])
    assert free(sim, "eastus:" + D2) == 0


def test_k3_zonal_start_fails_with_zonal_allocation_failed(either):
    sim = either
    size = "Standard_D4s_v3"
    seed(sim, "k3", vms=[vm("z", zone="1", group=None, power="deallocated", sku=size),
                         vm("r", zone=None, group=None, power="deallocated", sku=size)])
    set_pools(sim, {"eastus/1:" + size: 0})
    err = refused(sim, "vm", "start", "-g", "k3", "-n", "z")
    assert "(ZonalAllocationFailed)" in err and allocation.ZONE_MSG in err, err
    sim.az("vm", "start", "-g", "k3", "-n", "r", "-o", "none")  # no regional pool: unlimited (K1)
    assert at_once(lambda: vm_power(sim, "k3", "z"), lambda: vm_power(sim, "k3", "r")) == ["deallocated", "running"]
    set_pools(sim, {"eastus:" + size: 1, "eastus/1:" + size: None})  # the zone falls back on the region's pool
    sim.az("vm", "start", "-g", "k3", "-n", "z", "-o", "none")
    assert free(sim, "eastus:" + size) == 0 and "eastus/1:" + size not in pools(sim)["pools"]


def test_k2_deallocation_and_deletion_give_back(sim):
    size = "Standard_E2s_v3"
    seed(sim, "k2b", vms=[vm("a", zone=None, group=None, sku=size),
                          vm("b", zone=None, group=None, power="deallocated", sku=size)])
    set_pools(sim, {"eastus:" + size: 0})  # `a` was seeded running: it holds its machine already (K1)
    assert "(AllocationFailed)" in refused(sim, "vm", "start", "-g", "k2b", "-n", "b")
    sim.az("vm", "deallocate", "-g", "k2b", "-n", "a")
    assert free(sim, "eastus:" + size) == 1
    sim.az("vm", "start", "-g", "k2b", "-n", "b", "-o", "none")
    assert free(sim, "eastus:" + size) == 0
    assert "(AllocationFailed)" in refused(sim, "vm", "start", "-g", "k2b", "-n", "a")
    sim.az("vm", "delete", "-g", "k2b", "-n", "b", "--yes")
    assert free(sim, "eastus:" + size) == 1
    sim.az("vm", "start", "-g", "k2b", "-n", "a", "-o", "none")
    assert vm_power(sim, "k2b", "a") == "running"


def test_k5_k6_reservation_quantity_draws_on_the_pool(either):
    sim = either
    size = "Standard_E4s_v3"
    seed(sim, "k5", [crg("g", zones=(), capacity=2, size=size), {"name": "g2"}], [],
         [vm("v", zone=None, group="g", sku=size)])
    set_pools(sim, {"eastus:" + size: 1})  # the seeded reservation keeps its 2 (K1)
    show = ("capacity", "reservation", "show", "-g", "k5", "-c", "g", "-n", "r", "--query", "sku.capacity")
    err = refused(sim, "capacity", "reservation", "update", "-g", "k5", "-c", "g", "-n", "r", "--capacity", "4")
    assert "(AllocationFailed)" in err and allocation.REGION_MSG in err, err
    assert sim.az(*show)[1] == 2 and free(sim, "eastus:" + size) == 1  # refused: nothing changed (K5)
    sim.az("capacity", "reservation", "update", "-g", "k5", "-c", "g", "-n", "r", "--capacity", "3", "-o", "none")
    assert sim.az(*show)[1] == 3 and free(sim, "eastus:" + size) == 0
    # down to 0 with `v` running on it: the 2 unused slots go back, `v` keeps its machine (K6)
    sim.az("capacity", "reservation", "update", "-g", "k5", "-c", "g", "-n", "r", "--capacity", "0", "-o", "none")
    assert free(sim, "eastus:" + size) == 2 and vm_power(sim, "k5", "v") == "running"
    err = refused(sim, "capacity", "reservation", "create", "-g", "k5", "-c", "g2", "-n", "r2", "--sku", size,
                  "--capacity", "3")
    assert "(AllocationFailed)" in err  # K5: all or nothing, and a refused reservation is not made
    assert sim.az("capacity", "reservation", "list", "-g", "k5", "-c", "g2", "--query", "[].name")[1] == []
    sim.az("vm", "deallocate", "-g", "k5", "-n", "v")  # an on-demand machine now (K6): back to the pool
    assert free(sim, "eastus:" + size) == 3


def test_k4_scale_set_start_is_partial_per_instance(either):
    sim = either
    size = "Standard_F2s_v2"
    seed(sim, "k4", [], [uniform("u", zones=(), capacity=3, group=None, sku=size, power={"*": "deallocated"},
                                 singlePlacementGroup=True)])
    set_pools(sim, {"eastus:" + size: 2})
    err = refused(sim, "vmss", "start", "-g", "k4", "-n", "u")
    assert "(AllocationFailed)" in err and allocation.PLACEMENT_GROUP_MSG in err, err  # K3: one cluster
    states = {i: p for i, (p, _) in instances(sim, "k4", "u").items()}
    assert states == {"0": "running", "1": "running", "2": "deallocated"}
    assert free(sim, "eastus:" + size) == 0


def test_k3_new_members_beyond_capacity_are_made_deallocated(sim):
    size = "Standard_F4s_v2"
    seed(sim, "k3n", [], [uniform("u", zones=("1",), capacity=1, group=None, sku=size)])
    set_pools(sim, {"eastus/1:" + size: 0})
    err = refused(sim, "vmss", "scale", "-g", "k3n", "-n", "u", "--new-capacity", "2")
    assert "(ZonalAllocationFailed)" in err, err
    _, listed, _ = sim.az("vmss", "list-instances", "-g", "k3n", "-n", "u", "--expand", "instanceView")
    made = {i["instanceId"]: (i["provisioningState"], [s["code"] for s in i["instanceView"]["statuses"]][-1])
            for i in listed}
    assert made == {"0": ("Succeeded", "PowerState/running"), "1": ("Failed", "PowerState/deallocated")}
    set_pools(sim, {"eastus/1:" + size: 1})
    sim.az("vmss", "start", "-g", "k3n", "-n", "u", "--instance-ids", "1")
    assert instances(sim, "k3n", "u")["1"][0] == "running"


def test_k3_ephemeral_os_disk_is_overconstrained(sim):
    """Made straight through ARM (seed's own request, without seed's pause of the accounting)."""
    from armsim.client import ArmError
    from armsim.seed import seed_scale_set
    size = "Standard_F8s_v2"
    seed(sim, "k3e")
    set_pools(sim, {"eastus/1:" + size: 0})
    base = "/subscriptions/{}/resourceGroups/k3e".format(sim.sub)
    subnet = base + "/providers/Microsoft.Network/virtualNetworks/k3e-vnet/subnets/default"
    with pytest.raises(ArmError) as failed:
        seed_scale_set(sim.client, base, "eastus", subnet,
                       uniform("e", zones=("1",), capacity=1, group=None, sku=size, ephemeralOsDisk=True))
    error = failed.value.body["error"]
    assert error["code"] == "OverconstrainedAllocationRequest"
    assert error["message"] == allocation.CONSTRAINED_MSG.format(
        "- Availability zone  - Differencing (Ephemeral) Disks  - VM Size")
    _, shown, _ = sim.az("vmss", "show", "-g", "k3e", "-n", "e", "--query", "provisioningState")
    assert shown == "Failed"


def test_k1_k7_simulator_capacity_endpoint_and_seed_section(sim):
    size = "Standard_D8s_v3"
    base = sim.env()["ARMSIM_URL"] + "/simulator/capacity"
    _, shown, _ = sim.az("rest", "--skip-authorization-header", "--url", base)
    assert shown["pools"]["eastus:" + D2] == 0 and shown["enforced"] is True and "allocationFailures" in shown
    _, shown, _ = sim.az("rest", "--skip-authorization-header", "--method", "post", "--url", base, "--body",
                         '{"pools": {"westeurope/2:%s": 5}}' % size)
    assert shown["pools"]["westeurope/2:" + size] == 5
    err = refused(sim, "rest", "--skip-authorization-header", "--method", "post", "--url", base, "--body",
                  '{"pools": {"westeurope:%s": -1}}' % size)
    assert "InvalidParameter" in err and "COUNT" in err
    seed(sim, "k1", vms=[vm("v", zone=None, group=None, sku=size)])
    sim.seed({"location": "eastus", "resourceGroups": [], "capacity": {"eastus:" + size: 0,
                                                                       "westeurope/2:" + size: None}})
    after = pools(sim)["pools"]
    assert after["eastus:" + size] == 0 and "westeurope/2:" + size not in after
    assert pools(sim)["enforced"] is True  # seeding paused the accounting, and resumed it


def test_k1_capacity_option_is_checked(tmp_path):
    with pytest.raises(lifecycle.LifecycleError, match="LOCATION\\[/ZONE\\]:SIZE=COUNT"):
        lifecycle.up(str(tmp_path / "sim"), capacity=["eastus=3"])
    with pytest.raises(lifecycle.LifecycleError, match="COUNT must be"):
        lifecycle.up(str(tmp_path / "sim"), capacity=["eastus/1:Standard_D2s_v3=some"])


def test_k1_rule_table_lists_capacity(sim):
    _, table, _ = sim.az("rest", "--skip-authorization-header", "--url", sim.env()["ARMSIM_URL"] + "/simulator/rules")
    listed = {r["id"]: r for r in table["rules"]}
    assert [i for i in listed if i.startswith("K")] == ["K1", "K2", "K3", "K4", "K5", "K6", "K7"]
    assert listed["K1"]["reading"] == "pools at start: eastus:" + D2 + "=0"


def test_k2_resize_while_allocated_draws_the_new_size(sim):
    old, new = "Standard_E8s_v3", "Standard_E16s_v3"
    seed(sim, "k2r", vms=[vm("v", zone=None, group=None, sku=old)])
    set_pools(sim, {"eastus:" + old: 0, "eastus:" + new: 0})
    err = refused(sim, "vm", "resize", "-g", "k2r", "-n", "v", "--size", new)
    assert "(AllocationFailed)" in err and allocation.REGION_MSG in err, err
    _, size, _ = sim.az("vm", "show", "-g", "k2r", "-n", "v", "--query", "hardwareProfile.vmSize")
    assert size == old and vm_power(sim, "k2r", "v") == "running"
    set_pools(sim, {"eastus:" + new: 1})
    sim.az("vm", "resize", "-g", "k2r", "-n", "v", "--size", new, "-o", "none")
    assert sim.az("vm", "show", "-g", "k2r", "-n", "v", "--query", "hardwareProfile.vmSize")[1] == new
    assert free(sim, "eastus:" + old) == 1 and free(sim, "eastus:" + new) == 0  # the old machine went back
