# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Capacity reservation groups and reservations, and their accounting of who consumes them (C1-C5)."""
import copy
import datetime

from .. import rules
from ..backend import Resource, event, iso
from ..errors import CannotDeleteResource, InvalidParameter, OperationNotAllowed, PropertyChangeNotAllowed, not_found
from ..ids import ResourceId, norm_id, same_id
from . import allocation, power
from .common import bump_etag, guid, new_resource, normalize_location

GROUP = "Microsoft.Compute/capacityReservationGroups"
RESERVATION = "Microsoft.Compute/capacityReservationGroups/capacityReservations"
CONSUMER_TYPES = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")

# C4 (ARO's isReferencedByVMError / isNestedResourcesError: the codes are Azure's, the texts ours)
RESERVATION_IN_USE_MSG = ("Capacity reservation '{name}' cannot be deleted because it is associated with {count} "
                          "virtual machine(s), e.g. '{example}'. Remove the associations first.")
GROUP_NESTED_MSG = ("Capacity reservation group '{name}' cannot be deleted because it still has nested resources "
                    "(capacity reservations). Delete them first.")
GROUP_IN_USE_MSG = "Capacity reservation group '{name}' still has associated virtual machines."
NEGATIVE_CAPACITY_MSG = "The value of parameter 'sku.capacity' must be zero or more."  # C3
# C6
RESERVATION_LOCATION_MSG = "The capacity reservation must be in the location of its group ('{location}')."
RESERVATION_ZONE_MSG = ("A capacity reservation takes exactly one zone of its group's zones {zones} (none when the "
                        "group is regional).")
RESERVATION_DUPLICATE_MSG = "The group already has a capacity reservation for size '{size}'{where}."
# C7 (ScheduleProfile, api-version 2025-04-01: the reference's texts, our wording)
TARGETED, BLOCK = "Targeted", "Block"
RESERVATION_TYPE_MSG = "The value '{value}' of property 'reservationType' is not valid: use 'Targeted' or 'Block'."
SCHEDULE_REQUIRED_MSG = "A capacity reservation in a group of reservationType 'Block' requires 'scheduleProfile' " \
                        "with 'start' and 'end' dates (YYYY-MM-DD)."
SCHEDULE_NOT_BLOCK_MSG = ("'scheduleProfile' is supported only in a capacity reservation group of reservationType "
                          "'Block'.")
SCHEDULE_DATE_MSG = "The value '{value}' of 'scheduleProfile.{field}' is not a date (YYYY-MM-DD)."
SCHEDULE_START_MSG = "'scheduleProfile.start' must be today or within 56 days in the future ({first} to {last}); " \
                     "for a start today, before 11:30 UTC."
SCHEDULE_LENGTH_MSG = "'scheduleProfile.end' must be after the start, with a duration of 1-14 whole days or 3-26 " \
                      "whole weeks; {start} to {end} is {days} day(s)."


# --- groups ----------------------------------------------------------------------------------
def put_group(backend, rid, body):
    existing = backend.get(rid)
    body = body or {}
    sharing = (body.get("properties") or {}).get("sharingProfile")
    kind = (body.get("properties") or {}).get("reservationType")
    if kind is not None and kind not in (TARGETED, BLOCK):
        raise InvalidParameter(RESERVATION_TYPE_MSG.format(value=kind), rule="C7", target="reservationType")
    if existing is not None:
        zones = body.get("zones")
        if zones is not None and sorted(zones) != sorted(existing.body.get("zones") or []):
            raise PropertyChangeNotAllowed("Changing property 'zones' is not allowed.", target="zones")
        if kind is not None and kind != existing.props.get("reservationType", TARGETED):
            raise PropertyChangeNotAllowed("Changing property 'reservationType' is not allowed.",
                                           target="reservationType")
        _set_tags(existing, body)
        return existing, False, _update_group(backend, existing, sharing)
    if not body.get("location"):
        raise InvalidParameter("Required parameter 'location' is missing (null).", target="location")
    res = new_resource(rid, {}, body["location"])
    _set_tags(res, body)
    if body.get("zones"):
        res.body["zones"] = list(body["zones"])
    res.props.update(provisioningState="Creating", reservationType=kind or TARGETED)
    if sharing:
        res.props["sharingProfile"] = _sharing(sharing)
    backend.put(res)
    op = backend.begin(res.body["location"], "provisioned", id=str(rid))
    return res, True, op


def _set_tags(res, body):
    """PUT replaces the tags; a body without tags leaves none (and the answer shows no `tags`)."""
    if body.get("tags") is not None:
        res.body["tags"] = body["tags"]
    else:
        res.body.pop("tags", None)


def _sharing(profile):
    ids = [{"id": "/" + s["id"].strip("/")} for s in profile.get("subscriptionIds") or []]
    return {"subscriptionIds": ids}


def _update_group(backend, res, sharing):
    """An update is long-running. A new sharing profile shows the subscriptions it adds at once, and drops
    the ones it removes when the operation completes (wire: test_capacity_reservation_sharing_profile #2-#4)."""
    if sharing is not None:
        target = _sharing(sharing)
        res.state["sharing"] = target
        shown = (res.props.get("sharingProfile") or {}).get("subscriptionIds") or []
        known = {s["id"].lower() for s in shown}
        shown = shown + [s for s in target["subscriptionIds"] if s["id"].lower() not in known]
        if shown:
            res.props["sharingProfile"] = {"subscriptionIds": shown}
    res.props["provisioningState"] = "Updating"
    return backend.begin(res.body["location"], "provisioned", id=str(res.id))


def patch_group(backend, rid, body):
    res = get(backend, rid)
    body = body or {}
    if "tags" in body:
        res.body["tags"] = body["tags"] or {}
    return res, _update_group(backend, res, (body.get("properties") or {}).get("sharingProfile"))


def shared_with(backend, sub):
    """Groups whose sharing profile names the subscription."""
    wanted = "/subscriptions/" + sub.lower()
    return [g for g in backend.of_type(GROUP) if any(
        s["id"].lower() == wanted for s in (g.props.get("sharingProfile") or {}).get("subscriptionIds") or [])]


def delete_group(backend, rid):
    res = backend.get(rid)
    if res is None:
        return None
    check_deletable(backend, res)
    return backend.begin(res.body["location"], "removed", id=str(rid))


@event("provisioned")
def _provisioned(backend, id):
    res = backend.get(id)
    if res is not None:
        res.props["provisioningState"] = "Succeeded"
        if res.type == RESERVATION:
            res.props["provisioningTime"] = iso(backend.now())
        sharing = res.state.pop("sharing", None)
        if sharing is not None:
            if sharing["subscriptionIds"]:
                res.props["sharingProfile"] = sharing
            else:
                res.props.pop("sharingProfile", None)


@event("removed")
def _removed(backend, id):
    res = backend.get(id)
    if res is not None:
        if res.type == RESERVATION:  # K5: its quantity goes back to the pool
            allocation.reserve(backend, res, res.body["sku"]["capacity"], 0)
        backend.remove(res)


def get(backend, rid):
    res = backend.get(rid)
    if res is None:
        raise not_found(rid)
    return res


def render_group(backend, res, instance_view=False):
    body = copy.deepcopy(res.body)
    props = body.setdefault("properties", {})
    reservations = backend.children(res.id, RESERVATION)
    _set_list(props, "capacityReservations", [{"id": str(r.id)} for r in reservations])
    _set_list(props, "virtualMachinesAssociated", [{"id": cid} for cid, _ in associated(backend, res)])
    if instance_view:
        view = {"capacityReservations": [
            {"name": r.id.name, "utilizationInfo": utilization(backend, r), "statuses": _statuses(backend, r)}
            for r in reservations]}
        if props.get("sharingProfile"):
            view["sharedSubscriptionIds"] = props["sharingProfile"]["subscriptionIds"]
        props["instanceView"] = view
    return body


# --- reservations ----------------------------------------------------------------------------
def put_reservation(backend, rid, body):
    group = get(backend, rid.parent)
    existing = backend.get(rid)
    body = body or {}
    sku = body.get("sku") or {}
    schedule = (body.get("properties") or {}).get("scheduleProfile")
    if existing is not None:
        keep_schedule(existing, schedule)
        return existing, False, _update_reservation(backend, existing, sku.get("capacity"), body.get("tags"))
    if not sku.get("name") or sku.get("capacity") is None:
        raise InvalidParameter("Required parameter 'sku' (name and capacity) is missing.", target="sku")
    location = normalize_location(body.get("location") or group.body["location"])
    zones = body.get("zones") or []
    check_new_reservation(backend, group, sku["name"], location, zones)
    schedule = check_schedule(backend, group, schedule)
    res = new_resource(rid, {"sku": {"name": sku["name"], "capacity": int(sku["capacity"])}}, location)
    _set_tags(res, body)
    if zones:
        res.body["zones"] = list(zones)
    res.props.update(platformFaultDomainCount=3, reservationId=guid(), provisioningState="Creating",
                     timeCreated=iso(backend.now()))
    if schedule:
        res.props["scheduleProfile"] = schedule
    bump_etag(res)
    error = allocation.reserve(backend, res, 0, res.body["sku"]["capacity"])
    if error is not None:  # K5: all or nothing; a refused reservation is not made
        return res, True, allocation.fail_later(backend, location, rid, error)
    backend.put(res)
    op = backend.begin(location, "provisioned", id=str(rid))
    return res, True, op


def check_new_reservation(backend, group, size, location, zones):
    """A reservation is made in its group's location, in exactly one of its zones (none in a regional group), and
    a group holds one reservation per size and zone (C6; doc R4, R5)."""
    if location != normalize_location(group.body["location"]):
        raise InvalidParameter(RESERVATION_LOCATION_MSG.format(location=group.body["location"]), rule="C6",
                               target="location")
    group_zones = group.body.get("zones") or []
    if len(zones) > 1 or (zones and zones[0] not in group_zones) or (group_zones and not zones):
        raise InvalidParameter(RESERVATION_ZONE_MSG.format(zones=group_zones), rule="C6", target="zones")
    for other in backend.children(group.id, RESERVATION):
        if other.body["sku"]["name"].lower() == size.lower() and (other.body.get("zones") or []) == zones:
            raise InvalidParameter(RESERVATION_DUPLICATE_MSG.format(size=size, where=" in zone " + zones[0]
                                                                    if zones else ""), rule="C6")


def check_schedule(backend, group, schedule):
    """A Block group's reservations need a schedule, others take none; start today (before 11:30 UTC) or within
    56 days, and 1-14 whole days or 3-26 whole weeks to the end (C7). Returns the schedule as Azure shows it:
    the start day from 12:00 UTC, the end day to 11:30 UTC (BlockCapacityReservation_CreateOrUpdate)."""
    block = group.props.get("reservationType") == BLOCK
    if not schedule:
        if block:
            raise InvalidParameter(SCHEDULE_REQUIRED_MSG, rule="C7", target="scheduleProfile")
        return None
    if not block:
        raise InvalidParameter(SCHEDULE_NOT_BLOCK_MSG, rule="C7", target="scheduleProfile")
    start, end = (_date(schedule, field) for field in ("start", "end"))
    now = datetime.datetime.fromtimestamp(backend.now(), datetime.timezone.utc)
    first = now.date() if (now.hour, now.minute) < (11, 30) else now.date() + datetime.timedelta(days=1)
    last = now.date() + datetime.timedelta(days=56)
    if not first <= start <= last:
        raise InvalidParameter(SCHEDULE_START_MSG.format(first=first, last=last), rule="C7",
                               target="scheduleProfile.start")
    days = (end - start).days
    if not (1 <= days <= 14 or (days % 7 == 0 and 3 <= days // 7 <= 26)):
        raise InvalidParameter(SCHEDULE_LENGTH_MSG.format(start=start, end=end, days=days), rule="C7",
                               target="scheduleProfile.end")
    return {"start": "{}T12:00:00Z".format(start), "end": "{}T11:30:00Z".format(end)}


def _date(schedule, field):
    value = schedule.get(field)
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidParameter(SCHEDULE_DATE_MSG.format(value=value, field=field), rule="C7",
                               target="scheduleProfile." + field) from None


def keep_schedule(res, schedule):
    """A reservation's schedule cannot change after it is made (C7)."""
    if schedule is not None and schedule != res.props.get("scheduleProfile") and not (
            res.props.get("scheduleProfile") and all(
                str(schedule.get(k, ""))[:10] == res.props["scheduleProfile"][k][:10] for k in ("start", "end"))):
        raise PropertyChangeNotAllowed("Changing property 'scheduleProfile' is not allowed.",
                                       target="scheduleProfile")


def patch_reservation(backend, rid, body):
    res = get(backend, rid)
    body = body or {}
    keep_schedule(res, (body.get("properties") or {}).get("scheduleProfile"))
    return res, _update_reservation(backend, res, (body.get("sku") or {}).get("capacity"), body.get("tags"))


def _update_reservation(backend, res, capacity, tags):
    """Change a reservation's quantity and tags. The pool lends or takes back the difference (K5, K6); an
    increase it cannot cover leaves the quantity as it was and the operation ends Failed."""
    old = res.body["sku"]["capacity"]
    change_capacity(res, capacity, tags)
    error = allocation.reserve(backend, res, old, res.body["sku"]["capacity"])
    if error is not None:
        res.body["sku"]["capacity"] = old
        return allocation.fail_later(backend, res.body["location"], res.id, error, provisioning="Succeeded")
    return backend.begin(res.body["location"], "provisioned", id=str(res.id))


def change_capacity(res, capacity, tags):
    """Only sku.capacity and tags change; lowering capacity, to 0 too, always succeeds (C3)."""
    if capacity is not None:
        capacity = int(capacity)
        if capacity < 0:
            raise InvalidParameter(NEGATIVE_CAPACITY_MSG, rule="C3")
        res.body["sku"]["capacity"] = capacity
    if tags is not None:
        res.body["tags"] = tags
    res.props["provisioningState"] = "Updating"
    bump_etag(res)


def delete_reservation(backend, rid):
    res = backend.get(rid)
    if res is None:
        return None
    check_deletable(backend, res)
    return backend.begin(res.body["location"], "removed", id=str(rid))


def check_deletable(backend, res):
    """A reservation goes only without associations; a group only without reservations and associations (C4).
    Both read the association lists, so they lag like them (C5)."""
    if res.type == RESERVATION:
        users = reservation_consumers(backend, res)
        if users:
            raise OperationNotAllowed(RESERVATION_IN_USE_MSG.format(name=res.id.name, count=len(users),
                                                                    example=users[0][0]), rule="C4")
    elif backend.children(res.id, RESERVATION):
        raise CannotDeleteResource(GROUP_NESTED_MSG.format(name=res.id.name), rule="C4")
    elif associated(backend, res):
        raise CannotDeleteResource(GROUP_IN_USE_MSG.format(name=res.id.name), rule="C4")


def render_reservation(backend, res, instance_view=False):
    body = copy.deepcopy(res.body)
    props = body.setdefault("properties", {})
    _set_list(props, "virtualMachinesAssociated", [{"id": cid} for cid, _ in reservation_consumers(backend, res)])
    if instance_view:
        props["instanceView"] = {"utilizationInfo": utilization(backend, res), "statuses": _statuses(backend, res)}
    return body


def _set_list(props, key, items):
    """Compute leaves empty lists out of its answers (wire: group PUT, reservation GET and list)."""
    if items:
        props[key] = items


def utilization(backend, res):
    """What a reservation serves: every associated machine that holds hardware counts, however many there are
    (P2; C2: more than the capacity is overallocation, never a refusal). With none, the list is left out, as
    Compute leaves out every empty list."""
    info = {"currentCapacity": res.body["sku"]["capacity"]}
    _set_list(info, "virtualMachinesAllocated", [{"id": cid} for cid, c in reservation_consumers(backend, res)
                                                 if power.allocated(c)])
    return info


def _statuses(backend, res):
    state = res.props.get("provisioningState", "Succeeded").lower()
    return [{"code": "ProvisioningState/" + state, "level": "Info",
             "displayStatus": "Provisioning " + state, "time": res.props.get("provisioningTime")
             or res.props.get("timeCreated")}]


# --- accounting (C1, C5, P2) ---------------------------------------------------------------------
def consumer_id(res):
    """The id a consumer has in association lists: VMs by their id, Uniform instances under their scale set."""
    return str(res.id)


def associate(backend, res, group_id):
    """Set the group a machine is associated with. With a consistency delay, the association lists keep showing
    the group they showed before for that long (C5)."""
    group_id = norm_id(group_id) if group_id else None
    delay = rules.lag_seconds(backend.options)
    if delay > 0 and not same_id(res.state.get("crg"), group_id):
        res.state.update(crg_listed=listed_group(backend, res), crg_until=backend.now() + delay)
    res.state["crg"] = group_id


def release(backend, res):
    """A machine is going away: with a consistency delay its group keeps listing it for that long (C5)."""
    listed, delay = listed_group(backend, res), rules.lag_seconds(backend.options)
    group = backend.get(listed) if listed else None
    if delay > 0 and group is not None:
        group.state.setdefault("departed", {})[consumer_id(res)] = {
            "until": backend.now() + delay, "size": res.state.get("size"), "zone": res.state.get("zone"),
            "power": res.state.get("power")}


def listed_group(backend, res):
    """The group association lists show for a machine: its group, or the one before within the delay (C5)."""
    if backend.now() < res.state.get("crg_until", 0):
        return res.state.get("crg_listed")
    return res.state.get("crg")


def associated(backend, group):
    """(id, resource) of every machine the group lists as associated, allocated or not (C1, C5)."""
    out = []
    for type_ in CONSUMER_TYPES:
        for res in backend.of_type(type_):
            if same_id(listed_group(backend, res), str(group.id)):
                out.append((consumer_id(res), res))
    departed = group.state.get("departed") or {}
    for cid, gone in sorted(departed.items()):
        if gone["until"] > backend.now():
            out.append((cid, Resource(ResourceId.parse(cid), {}, gone)))
        else:
            del departed[cid]
    return out


def matches(reservation, size, zone):
    """Whether a reservation serves a machine of this size in this zone (R1, R4)."""
    if reservation.body["sku"]["name"].lower() != (size or "").lower():
        return False
    zones = reservation.body.get("zones") or []
    return not zones or zones[0] == zone


def reservation_consumers(backend, reservation):
    group = backend.get(reservation.id.parent)
    if group is None:
        return []
    return [(cid, c) for cid, c in associated(backend, group)
            if matches(reservation, c.state.get("size"), c.state.get("zone"))]


def reservation_for(backend, group_id, size, zone):
    """The group's reservation that serves a machine of this size in this zone, or None."""
    gid = ResourceId.parse(norm_id(group_id))
    if gid is None:
        return None
    for r in backend.children(gid, RESERVATION):
        if matches(r, size, zone):
            return r
    return None


def reservations_of_size(backend, group_id, size):
    """The group's reservations for a size, in every zone."""
    gid = ResourceId.parse(norm_id(group_id))
    return [r for r in backend.children(gid, RESERVATION)
            if r.body["sku"]["name"].lower() == (size or "").lower()] if gid else []
