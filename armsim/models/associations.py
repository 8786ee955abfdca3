# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Who may join or leave a capacity reservation group, and when (rules A2-A5s, A8).

Each check raises before anything changes. Azure documents these constraints but not its error texts
(arm-semantics.md §3): the codes follow its classes of failure, the messages below are armsim's.
"""
from collections import namedtuple

from .. import rules
from ..errors import InvalidParameter, OperationNotAllowed
from ..ids import ResourceId, norm_id, same_id
from . import capacity, power
from .common import normalize_location

# State conflicts (409 OperationNotAllowed). A machine's: A3 (A5 for a Uniform instance)
ATTACH_REGIONAL_MSG = ("{machine} is allocated and not in an availability zone: it cannot be associated with "
                       "capacity reservation group '{new}' while allocated. Deallocate it, change the association, "
                       "then start it.")
# A3 for a regional machine, A3s for a zonal one (A5, A5s for Uniform instances)
SWITCH_MSG = ("{machine} is allocated: it cannot move from capacity reservation group '{old}' to '{new}' in place. "
              "Deallocate it, change the association, then start it.")
# A4 (A5 for a Uniform instance)
LEAVE_MSG = ("{machine} is allocated and consumes capacity reservation '{reservation}' (capacity {capacity}): it "
             "can leave capacity reservation group '{old}' only while deallocated or when that reservation's "
             "capacity is 0.")
# A scale set's model: A5
MODEL_ATTACH_MSG = ("The model of regional scale set '{name}' cannot be associated with capacity reservation group "
                    "'{new}' while {count} instance(s) are allocated. Deallocate the scale set first.")
# A5s (A5 for a regional scale set)
MODEL_SWITCH_MSG = ("The model of scale set '{name}' cannot move from capacity reservation group '{old}' to '{new}' "
                    "while {count} instance(s) are allocated. Deallocate the scale set first.")
# A5
MODEL_LEAVE_MSG = ("The association of scale set '{name}' with capacity reservation group '{old}' cannot be removed "
                   "while {count} instance(s) are allocated and reservation(s) {busy} have capacity above 0. "
                   "Deallocate the scale set or set those reservations' capacity to 0 first.")
# A3p: attaching a running zonal VM (Preview) read as not available
ATTACH_ZONAL_MSG = ("{machine} is allocated: attaching a running zonal machine to capacity reservation group '{new}' "
                    "is not available. Deallocate it, change the association, then start it.")
# A4z: the capacity-0 exception read as zonal-only
ZERO_REGIONAL_MSG = ("{machine} is not in an availability zone: it cannot leave capacity reservation group '{old}' "
                     "while allocated, even when the reservation's capacity is 0. Deallocate first.")
# Validation (400 InvalidParameter): A8 for all of these
GROUP_MISSING_MSG = "Capacity reservation group '{group}' was not found."
REGION_MSG = ("{machine} is in region '{location}' and capacity reservation group '{group}' in '{group_location}': "
              "they must be in the same region.")
ZONAL_GROUP_MSG = ("Capacity reservation group '{group}' is zonal ({zones}) and {machine} is regional: a regional "
                   "machine needs a regional group.")
REGIONAL_GROUP_MSG = ("Capacity reservation group '{group}' is regional and {machine} is in zone(s) {zones}: a zonal "
                      "machine needs a group in its zones.")
ZONES_MSG = ("{machine} is in zone(s) {zones}, which capacity reservation group '{group}' ({group_zones}) does not "
             "cover.")
NO_RESERVATION_MSG = "Capacity reservation group '{group}' has no capacity reservation for size '{size}'{where}."
SINGLE_PLACEMENT_MSG = ("{machine} has singlePlacementGroup=true, which capacity reservations do not support: set it "
                        "to false.")
FAULT_DOMAINS_MSG = ("{machine} spreads over {count} fault domains, more than capacity reservation '{reservation}' "
                     "supports ({limit}).")
SPOT_MSG = "{machine} uses Spot priority, which capacity reservations do not support."

VM_RULES = ("A3", "A3s", "A4")  # attach, switch, leave: standalone VMs and Flexible members
INSTANCE_RULES = ("A5", "A5s", "A5")  # the same for Uniform instances, which follow their scale set's rules

# What A8 needs to know of a VM or a scale set.
Target = namedtuple("Target", "machine location zones size uniform single_placement_group fault_domains spot")


def check_move(backend, res, old, new, rule_ids=VM_RULES, machine=None):
    """A VM, Flexible member or Uniform instance moving from group `old` to `new` (either may be None)."""
    if same_id(old, new) or not (old or new) or not power.allocated(res):
        return  # A2: a deallocated machine moves freely
    attach_rule, switch_rule, leave_rule = rule_ids
    machine = machine or describe(res)
    zone = res.state.get("zone")
    if not old:
        if zone and not (rule_ids == VM_RULES and rules.reading(backend.options, "A3p") == "refused"):
            return  # A3: a zonal machine is attached in place
        if not zone and _all_zero(backend, new, [capacity.reservation_for(backend, new, res.state.get("size"), zone)]):
            return  # A3z's allowed-at-zero reading
        if zone:
            raise OperationNotAllowed(ATTACH_ZONAL_MSG.format(machine=machine, new=_name(new)), rule="A3p")
        raise OperationNotAllowed(ATTACH_REGIONAL_MSG.format(machine=machine, new=_name(new)), rule=attach_rule)
    if new and not (zone and rules.opposite(backend.options, switch_rule)):
        raise OperationNotAllowed(SWITCH_MSG.format(machine=machine, old=_name(old), new=_name(new)),
                                  rule=switch_rule if zone else attach_rule)
    reservation = capacity.reservation_for(backend, old, res.state.get("size"), zone)
    if reservation is not None and reservation.body["sku"]["capacity"] > 0:
        raise OperationNotAllowed(LEAVE_MSG.format(machine=machine, reservation=reservation.id.name,
                                                   capacity=reservation.body["sku"]["capacity"], old=_name(old)),
                                  rule=leave_rule)
    _check_zero_regional(backend, zone, machine, old)


def check_model_change(backend, vmss, old, new, instances):
    """A Uniform scale set's model moving from group `old` to `new` while instances are allocated (A5, A5s, A5i)."""
    if same_id(old, new) or not (old or new) or rules.opposite(backend.options, "A5i"):
        return
    allocated = [i for i in instances if power.allocated(i)]
    if not allocated:
        return
    name, zonal = vmss.id.name, bool(vmss.body.get("zones"))
    if not old:
        if zonal or _all_zero(backend, new, capacity.reservations_of_size(backend, new, vmss.body["sku"]["name"])):
            return  # A5; A3z's allowed-at-zero reading
        raise OperationNotAllowed(MODEL_ATTACH_MSG.format(name=name, new=_name(new), count=len(allocated)),
                                  rule="A5")
    if new and not (zonal and rules.opposite(backend.options, "A5s")):
        raise OperationNotAllowed(MODEL_SWITCH_MSG.format(name=name, old=_name(old), new=_name(new),
                                                          count=len(allocated)), rule="A5s" if zonal else "A5")
    busy = [r.id.name for r in capacity.reservations_of_size(backend, old, vmss.body["sku"]["name"])
            if r.body["sku"]["capacity"] > 0]
    if busy:
        raise OperationNotAllowed(MODEL_LEAVE_MSG.format(name=name, old=_name(old), count=len(allocated),
                                                         busy=", ".join(busy)), rule="A5")
    _check_zero_regional(backend, zonal, "Scale set '{}' (with {} allocated instance(s))".format(
        name, len(allocated)), old)


def _all_zero(backend, group_id, reservations):
    """Rule A3z's allowed-at-zero reading: the reservations that would serve a machine all have capacity 0."""
    return (rules.reading(backend.options, "A3z") == "allowed-at-zero" and bool(reservations)
            and all(r is not None and r.body["sku"]["capacity"] == 0 for r in reservations))


def _check_zero_regional(backend, zonal, machine, old):
    """Rule A4z's zonal-only reading: a regional machine may not use the capacity-0 exception."""
    if not zonal and rules.reading(backend.options, "A4z") == "zonal-only":
        raise OperationNotAllowed(ZERO_REGIONAL_MSG.format(machine=machine, old=_name(old)), rule="A4z")


def check_change(backend, old_group, group, old_target, target):
    """Rule A8 when the association, or what it depends on, changes (a resize too: doc R10)."""
    if group and (not same_id(group, old_group) or target != old_target):
        check_target(backend, group, target)


def check_target(backend, group_id, target):
    """Whether a VM or scale set may be associated with the group at all (A8). A group in another subscription
    (one shared with this subscription, doc R23) is beyond what armsim models: it is not checked."""
    if ResourceId.parse(norm_id(group_id)).sub.lower() != backend.options.subscription_id.lower():
        return
    group = _group(backend, group_id)
    if group is None:
        raise InvalidParameter(GROUP_MISSING_MSG.format(group=group_id), rule="A8",
                               target="capacityReservation.capacityReservationGroup.id")
    name, machine = group.id.name, target.machine
    if normalize_location(group.body["location"]) != normalize_location(target.location):
        raise InvalidParameter(REGION_MSG.format(machine=machine, location=target.location, group=name,
                                                 group_location=group.body["location"]), rule="A8")
    group_zones, zones = group.body.get("zones") or [], list(target.zones or [])
    if group_zones and not zones:
        raise InvalidParameter(ZONAL_GROUP_MSG.format(group=name, zones=", ".join(group_zones), machine=machine),
                               rule="A8")
    if zones and not group_zones:
        raise InvalidParameter(REGIONAL_GROUP_MSG.format(group=name, machine=machine, zones=", ".join(zones)),
                               rule="A8")
    if set(zones) - set(group_zones):
        raise InvalidParameter(ZONES_MSG.format(machine=machine, zones=", ".join(zones), group=name,
                                                group_zones=", ".join(group_zones)), rule="A8")
    if target.uniform and target.single_placement_group:
        raise InvalidParameter(SINGLE_PLACEMENT_MSG.format(machine=machine), rule="A8")
    if target.spot:
        raise InvalidParameter(SPOT_MSG.format(machine=machine), rule="A8")
    for zone in zones or [None]:
        reservation = capacity.reservation_for(backend, group_id, target.size, zone)
        if reservation is None:
            raise InvalidParameter(NO_RESERVATION_MSG.format(group=name, size=target.size,
                                                             where=" in zone " + zone if zone else ""), rule="A8")
        limit = reservation.props.get("platformFaultDomainCount")
        if target.fault_domains and limit and target.fault_domains > limit:
            raise InvalidParameter(FAULT_DOMAINS_MSG.format(machine=machine, count=target.fault_domains,
                                                            reservation=reservation.id.name, limit=limit),
                                   rule="A8")


def _name(group_id):
    return group_id.rstrip("/").split("/")[-1]


def _group(backend, group_id):
    rid = ResourceId.parse(norm_id(group_id))
    res = backend.get(rid) if rid else None
    return res if res is not None and res.type == capacity.GROUP else None


def describe(res):
    """How messages name a machine."""
    if res.type == capacity.CONSUMER_TYPES[1]:
        return "Instance '{}' of scale set '{}'".format(res.id.name, res.id.names[0])
    return "Virtual machine '{}'".format(res.id.name)
