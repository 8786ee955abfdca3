# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Landscapes for the rule and procedure tests (armsim/seed.py format), and state read back through stock az."""
import time
from concurrent.futures import ThreadPoolExecutor

SIZE = "Standard_D2s_v3"
OTHER_SIZE = "Standard_E4s_v5"


def crg(name="g", zones=("1",), capacity=4, size=SIZE, reservation=None):
    """A group with one reservation per zone ("r1", "r2", ...), or one regional reservation ("r" or `reservation`)."""
    if zones:
        return {"name": name, "zones": list(zones),
                "reservations": [{"name": "r" + z, "sku": size, "capacity": capacity, "zone": z} for z in zones]}
    return {"name": name, "reservations": [{"name": reservation or "r", "sku": size, "capacity": capacity}]}


def uniform(name="u", policy="Manual", zones=("1",), capacity=3, group="g", power=None, **extra):
    spec = {"name": name, "orchestrationMode": "Uniform", "upgradePolicy": policy, "sku": SIZE,
            "capacity": capacity, "zones": list(zones), "capacityReservationGroup": group, "power": power or {}}
    spec.update(extra)
    return spec


def flexible(name="f", policy="Manual", zones=("1",), capacity=2, group=None, members=(), profile=True, **extra):
    spec = {"name": name, "orchestrationMode": "Flexible", "upgradePolicy": policy, "profile": profile,
            "members": list(members)}
    if profile:
        spec.update(sku=SIZE, capacity=capacity, zones=list(zones), capacityReservationGroup=group)
    spec.update(extra)
    return spec


def vm(name, zone="1", group="g", power="running", **extra):
    spec = {"name": name, "zone": zone, "capacityReservationGroup": group, "power": power}
    spec.update(extra)
    return spec


def seed(sim, rg, groups=(), scale_sets=(), vms=(), location="eastus"):
    sim.seed({"location": location, "resourceGroups": [
        {"name": rg, "capacityReservationGroups": list(groups), "scaleSets": list(scale_sets),
         "virtualMachines": list(vms)}]})


def gid(sim, rg, group="g"):
    return "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/capacityReservationGroups/{}".format(
        sim.sub, rg, group)


# --- state through stock az ----------------------------------------------------------------------------
def refused(sim, *args):
    """Run an az command that must fail; returns its stderr."""
    code, _, err = sim.az(*args, expect=None)
    assert code != 0, "az {} succeeded".format(" ".join(args))
    return err


def refused_all(sim, *commands):
    """Several independent az commands that must fail, run at once; their stderrs in order."""
    return at_once(*[lambda args=args: refused(sim, *args) for args in commands])


def at_once(*calls):
    """Run independent reads (functions of no argument) at the same time; their results in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def group_view(sim, rg, group="g"):
    """(associated, allocated): short ids of what the group lists (instances as 'u/0', VMs by name)."""
    _, g, _ = sim.az("capacity", "reservation", "group", "show", "-g", rg, "-n", group, "--instance-view")
    associated = sorted(short(v["id"]) for v in g.get("virtualMachinesAssociated") or [])
    allocated = sorted(short(v["id"]) for r in g["instanceView"]["capacityReservations"]
                       for v in r["utilizationInfo"].get("virtualMachinesAllocated") or [])
    return associated, allocated


def short(resource_id):
    parts = resource_id.split("/")
    return "{}/{}".format(parts[-3], parts[-1]) if "/virtualMachineScaleSets/" in resource_id else parts[-1]


def model_group(sim, rg, name):
    _, vmss, _ = sim.az("vmss", "show", "-g", rg, "-n", name)
    return _group_name(vmss.get("virtualMachineProfile"))


def vm_group(sim, rg, name):
    _, shown, _ = sim.az("vm", "show", "-g", rg, "-n", name)
    return _group_name(shown)


def _group_name(holder):
    gid_ = (((holder or {}).get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
    return gid_.split("/")[-1] if gid_ else None


def instances(sim, rg, name):
    """{instance id: (power state, latestModelApplied)} of a Uniform scale set."""
    _, items, _ = sim.az("vmss", "list-instances", "-g", rg, "-n", name, "--expand", "instanceView")
    return {i["instanceId"]: (power(i["instanceView"]), i["latestModelApplied"]) for i in items}


def vm_power(sim, rg, name):
    _, view, _ = sim.az("vm", "get-instance-view", "-g", rg, "-n", name)
    return power(view["instanceView"])


def power(view):
    return [s["code"].split("/")[1] for s in view["statuses"] if s["code"].startswith("PowerState/")][0]


def latest_models(sim, rg, name):
    _, flags, _ = sim.az("vmss", "list-instances", "-g", rg, "-n", name, "--query", "[].latestModelApplied")
    return flags


def wait_until(sim, path, done, timeout=30):
    """Poll a resource straight from the simulator (no az: waiting is not what a test observes) until `done`."""
    deadline = time.time() + timeout
    while not done(sim.client.request("GET", "/subscriptions/{}/resourceGroups/{}".format(sim.sub, path))):
        assert time.time() < deadline, "{} did not settle in {}s".format(path, timeout)
        time.sleep(0.1)


def follow_rolling(sim, rg, name, timeout=60):
    """Watch a rolling upgrade through `az vmss rolling-upgrade get-latest` and `list-instances` until it
    ends: the number of instances on the latest model at each look, and the last status."""
    seen, deadline = [], time.time() + timeout
    while time.time() < deadline:
        (_, latest, _), models = at_once(lambda: sim.az("vmss", "rolling-upgrade", "get-latest", "-g", rg, "-n", name),
                                         lambda: latest_models(sim, rg, name))
        seen.append(sum(models))
        if latest["runningStatus"]["code"] != "RollingForward":
            return seen, latest
    raise AssertionError("rolling upgrade of {} still running after {}s: {}".format(name, timeout, seen))
