# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""On-demand capacity: pools of free machines per location, zone (or region) and size, and what each machine or
reservation holds (rules K1-K7). Knows nothing of HTTP.

The state lives in `backend.capacity_state` (saved with the resources):
    {"pools": {key: {"name": "eastus/1:Standard_D2s_v3", "free": 3}}, "enforced": True, "failures": 0}
A machine that holds hardware records where it came from in `state["drawn"]`: {"reservation": id} or
{"onDemand": true}; it gives back to the pool its location, zone and size map to then (set or not when it drew). A
reservation counts the machines drawing on it in `state["used"]`.
"""
from ..backend import event
from ..errors import AllocationFailed, OverconstrainedAllocationRequest, ZonalAllocationFailed
from . import capacity, power

# K3: Azure's texts ("Troubleshoot allocation failures when you create, restart, or resize VMs in Azure"; "Fix an
# AllocationFailed or ZonalAllocationFailed error when you create, restart, or resize Virtual Machine Scale Sets";
# "Troubleshoot the ZonalAllocationFailed, AllocationFailed, or OverconstrainedAllocationRequest error code")
GUIDANCE = "Read more about improving likelihood of allocation success at https://aka.ms/allocation-guidance"
SHORT = "Allocation failed. We do not have sufficient capacity for the requested VM size in this {}. " + GUIDANCE
REGION_MSG, ZONE_MSG = SHORT.format("region"), SHORT.format("zone")
PLACEMENT_GROUP_MSG = ("Allocation failed. If you are trying to add a new VM to a Virtual Machine Scale Set with a "
                       "single placement group or update/resize an existing VM in a Virtual Machine Scale Set with a "
                       "single placement group, please note that such allocation is scoped to a single cluster, and "
                       "it is possible that the cluster is out of capacity. Please read more about improving "
                       "likelihood of allocation success at https://aka.ms/allocation-guidance.")
CONSTRAINED_MSG = ("Allocation failed. VM(s) with the following constraints cannot be allocated, because the "
                   "condition is too restrictive. Please remove some constraints and try again. Constraints applied "
                   "are: {}")


class CapacitySpecError(ValueError):
    pass


# --- pools (K1) -------------------------------------------------------------------------------------------------
def key(location, zone, size):
    return "{}/{}:{}".format((location or "").replace(" ", "").lower(), zone or "", (size or "").lower())


def parse(item):
    """(key, name, free) from `LOCATION[/ZONE]:SIZE=COUNT`; COUNT may be `unlimited` (free None)."""
    where, _, rest = str(item).partition(":")
    size, eq, count = rest.partition("=")
    location, _, zone = where.strip().partition("/")
    location, zone, size, count = location.strip(), zone.strip(), size.strip(), count.strip()
    if not (location and size and eq and count):
        raise CapacitySpecError("armsim: --capacity {}: expected LOCATION[/ZONE]:SIZE=COUNT, e.g. "
                                "eastus:Standard_D2s_v3=0 or eastus/1:Standard_D2s_v3=2".format(item))
    if count.lower() == "unlimited":
        free = None
    else:
        try:
            free = int(count)
        except ValueError:
            free = -1
        if free < 0:
            raise CapacitySpecError("armsim: --capacity {}: COUNT must be a whole number of machines, 0 or more, "
                                    "or 'unlimited'".format(item))
    name = "{}{}:{}".format(location.replace(" ", "").lower(), "/" + zone if zone else "", size)
    return key(location, zone, size), name, free


def parse_all(items):
    """{key: (name, free)} from strings or a {"LOCATION[/ZONE]:SIZE": COUNT} mapping."""
    if items is not None and not isinstance(items, (dict, list, tuple)):
        raise CapacitySpecError("armsim: capacity: expected a list of LOCATION[/ZONE]:SIZE=COUNT or a mapping of "
                                "LOCATION[/ZONE]:SIZE to COUNT")
    if isinstance(items, dict):
        items = ["{}={}".format(k, "unlimited" if v is None else v) for k, v in items.items()]
    out = {}
    for item in items or []:
        k, name, free = parse(item)
        out[k] = (name, free)
    return out


def state(backend):
    if getattr(backend, "capacity_state", None) is None:
        backend.capacity_state = {"pools": {}, "enforced": True, "failures": 0}
        configure(backend, backend.options.capacity)
    return backend.capacity_state


def configure(backend, pools=None, enforced=None):
    """Set pools (free None: unlimited, the pool is removed) and whether draws count (K1)."""
    current = state(backend)
    for k, (name, free) in parse_all(pools).items():
        if free is None:
            current["pools"].pop(k, None)
        else:
            current["pools"][k] = {"name": name, "free": free}
    if enforced is not None:
        current["enforced"] = bool(enforced)
    return describe(backend)


def describe(backend):
    current = state(backend)
    return {"pools": {p["name"]: p["free"] for _, p in sorted(current["pools"].items())},
            "enforced": current["enforced"], "allocationFailures": current["failures"]}


def pool_for(backend, location, zone, size):
    """The pool a machine or reservation draws on: its zone's when set, else its region's; None: unlimited (K1)."""
    pools = state(backend)["pools"]
    for k in ([key(location, zone, size)] if zone else []) + [key(location, None, size)]:
        if k in pools:
            return k
    return None


def _take(backend, pool, count):
    """Take `count` free machines from a pool, all or none. Not enforced (seeding): nothing counts."""
    current = state(backend)
    if pool is None or count <= 0 or not current["enforced"] or pool not in current["pools"]:
        return True
    if current["pools"][pool]["free"] < count:
        return False
    current["pools"][pool]["free"] -= count
    return True


def _give(backend, pool, count):
    current = state(backend)
    if pool is not None and count > 0 and current["enforced"] and pool in current["pools"]:
        current["pools"][pool]["free"] += count


def _failed(backend, error):
    state(backend)["failures"] += 1
    return error


# --- machines (K2, K3) ------------------------------------------------------------------------------------------
def allocate(backend, machine):
    """Give a machine hardware: from the reservation it is associated with while that has room, else from the pool
    (K2). Returns None, or the error it fails with (K3); the caller leaves the machine deallocated."""
    if machine.state.get("drawn"):
        return None
    size, zone = machine.state.get("size"), machine.state.get("zone")
    group = machine.state.get("crg")
    reservation = capacity.reservation_for(backend, group, size, zone) if group else None
    if reservation is not None and reservation.state.get("used", 0) < reservation.body["sku"]["capacity"]:
        reservation.state["used"] = reservation.state.get("used", 0) + 1
        machine.state["drawn"] = {"reservation": str(reservation.id)}
        return None
    if _take(backend, pool_for(backend, machine.body["location"], zone, size), 1):
        machine.state["drawn"] = {"onDemand": True}
        return None
    return _failed(backend, error_for(backend, machine))


def release(backend, machine):
    """A machine deallocated or deleted gives back what it drew (K2)."""
    drawn = machine.state.pop("drawn", None)
    if not drawn:
        return
    if drawn.get("reservation"):
        reservation = backend.get(drawn["reservation"])
        if reservation is not None:
            reservation.state["used"] = max(0, reservation.state.get("used", 0) - 1)
        return
    _give(backend, pool_for(backend, machine.body["location"], machine.state.get("zone"), machine.state.get("size")), 1)


def resize(backend, machine, size):
    """An allocated machine changing size gives back its machine and draws one of the new size (K2). Returns None,
    or the error when the new size cannot be had; the machine then keeps its old size and hardware."""
    old = machine.state.get("size")
    if not size or not old or size.lower() == old.lower() or not machine.state.get("drawn"):
        return None
    release(backend, machine)
    machine.state["size"] = size
    error = allocate(backend, machine)
    if error is not None:
        machine.state["size"] = old
        allocate(backend, machine)  # takes back what it gave back a moment ago
    return error


def error_for(backend, machine):
    """Azure's error for a machine it cannot allocate (K3): zonal or regional, narrowed by an ephemeral OS disk
    (a decision), or scoped to a scale set's single placement group."""
    zone = machine.state.get("zone")
    if power.ephemeral(machine):
        constraints = (["Availability zone"] if zone else []) + ["Differencing (Ephemeral) Disks", "VM Size"]
        return OverconstrainedAllocationRequest(CONSTRAINED_MSG.format("  ".join("- " + c for c in constraints)))
    cls = ZonalAllocationFailed if zone else AllocationFailed
    if machine.type == capacity.CONSUMER_TYPES[1]:
        scale_set = backend.get(machine.id.parent)
        if scale_set is not None and scale_set.props.get("singlePlacementGroup"):
            return cls(PLACEMENT_GROUP_MSG)
    return cls(ZONE_MSG if zone else REGION_MSG)


def error_body(error):
    return {"code": error.code, "message": error.message}


def fail_later(backend, location, rid, error, provisioning="Failed"):
    """A long-running operation that ends Failed with `error`, leaving `rid` in `provisioning` state (K3, K5)."""
    return backend.begin(location, "allocation_failed", id=str(rid), provisioning=provisioning, **error_body(error))


ERRORS = {cls.code: cls for cls in (AllocationFailed, ZonalAllocationFailed, OverconstrainedAllocationRequest)}


@event("allocation_failed")
def _allocation_failed(backend, id, provisioning, code, message):
    res = backend.get(id)
    if res is not None:
        res.props["provisioningState"] = provisioning
    raise ERRORS[code](message)


# --- reservations (K5, K6) --------------------------------------------------------------------------------------
def reserve(backend, reservation, old, new):
    """A reservation's quantity goes from `old` to `new`. An increase takes the difference from the pool, all or
    nothing (K5); a decrease gives back the slots no machine uses, and the machines beyond the new quantity keep
    their hardware as on-demand machines (K6). Returns None, or the error when the pool is short."""
    zones = reservation.body.get("zones") or []
    zone = zones[0] if zones else None
    size = reservation.body["sku"]["name"]
    pool = pool_for(backend, reservation.body["location"], zone, size)
    if new > old:
        if _take(backend, pool, new - old):
            return None
        cls = ZonalAllocationFailed if zone else AllocationFailed
        return _failed(backend, cls(ZONE_MSG if zone else REGION_MSG))
    used = reservation.state.get("used", 0)
    _give(backend, pool, min(old - new, max(0, old - used)))
    if used > new:
        excess = used - new
        rid = str(reservation.id).lower()
        for type_ in capacity.CONSUMER_TYPES:
            for machine in backend.of_type(type_):
                drawn = machine.state.get("drawn") or {}
                if excess and (drawn.get("reservation") or "").lower() == rid:
                    machine.state["drawn"] = {"onDemand": True}
                    excess -= 1
        reservation.state["used"] = new
    return None
