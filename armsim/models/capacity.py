"""Capacity reservation groups and reservations, and their accounting of who consumes them (C1-C5)."""
import copy

from ..backend import event, iso
from ..errors import (CannotDeleteResource, InvalidParameter, OperationNotAllowed, PropertyChangeNotAllowed,
                      ResourceNotFound, not_found)
from ..ids import ResourceId, same_id
from . import power
from .common import bump_etag, guid, new_resource, normalize_location, require_group

GROUP = "Microsoft.Compute/capacityReservationGroups"
RESERVATION = "Microsoft.Compute/capacityReservationGroups/capacityReservations"
CONSUMER_TYPES = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets/virtualMachines")


# --- groups ----------------------------------------------------------------------------------
def put_group(backend, rid, body):
    require_group(backend, rid)
    existing = backend.get(rid)
    body = body or {}
    sharing = (body.get("properties") or {}).get("sharingProfile")
    if existing is not None:
        zones = body.get("zones")
        if zones is not None and sorted(zones) != sorted(existing.body.get("zones") or []):
            raise PropertyChangeNotAllowed("Changing property 'zones' is not allowed.", target="zones")
        _set_tags(existing, body)
        return existing, False, _update_group(backend, existing, sharing)
    if not body.get("location"):
        raise InvalidParameter("Required parameter 'location' is missing (null).", target="location")
    res = new_resource(rid, {}, body["location"])
    _set_tags(res, body)
    if body.get("zones"):
        res.body["zones"] = list(body["zones"])
    res.props.update(provisioningState="Creating", reservationType="Targeted")
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
    if backend.children(rid, RESERVATION):
        raise CannotDeleteResource(
            "Capacity reservation group '{}' cannot be deleted because it still has nested resources "
            "(capacity reservations). Delete them first.".format(rid.name), rule="C4")
    if associated(backend, res):
        raise CannotDeleteResource("Capacity reservation group '{}' still has associated virtual machines."
                                   .format(rid.name), rule="C4")
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
            {"name": r.id.name, "utilizationInfo": _utilization(backend, r), "statuses": _statuses(backend, r)}
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
    if existing is not None:
        _change_capacity(existing, sku.get("capacity"), body.get("tags"))
        op = backend.begin(existing.body["location"], "provisioned", id=str(rid))
        return existing, False, op
    if not sku.get("name") or sku.get("capacity") is None:
        raise InvalidParameter("Required parameter 'sku' (name and capacity) is missing.", target="sku")
    location = normalize_location(body.get("location") or group.body["location"])
    if location != normalize_location(group.body["location"]):
        raise InvalidParameter("The capacity reservation must be in the location of its group ('{}')."
                               .format(group.body["location"]), target="location")
    zones = body.get("zones") or []
    group_zones = group.body.get("zones") or []
    if len(zones) > 1 or (zones and zones[0] not in group_zones) or (group_zones and not zones):
        raise InvalidParameter("A capacity reservation takes exactly one zone of its group's zones {} "
                               "(none when the group is regional).".format(group_zones), target="zones")
    for other in backend.children(group.id, RESERVATION):
        if other.body["sku"]["name"].lower() == sku["name"].lower() and (other.body.get("zones") or []) == zones:
            raise InvalidParameter("The group already has a capacity reservation for size '{}'{}."
                                   .format(sku["name"], " in zone " + zones[0] if zones else ""))
    res = new_resource(rid, {"sku": {"name": sku["name"], "capacity": int(sku["capacity"])}}, location)
    _set_tags(res, body)
    if zones:
        res.body["zones"] = list(zones)
    res.props.update(platformFaultDomainCount=3, reservationId=guid(), provisioningState="Creating",
                     timeCreated=iso(backend.now()))
    bump_etag(res)
    backend.put(res)
    op = backend.begin(location, "provisioned", id=str(rid))
    return res, True, op


def patch_reservation(backend, rid, body):
    res = get(backend, rid)
    body = body or {}
    _change_capacity(res, (body.get("sku") or {}).get("capacity"), body.get("tags"))
    return res, backend.begin(res.body["location"], "provisioned", id=str(rid))


def _change_capacity(res, capacity, tags):
    """Only sku.capacity and tags change; lowering capacity, to 0 too, always succeeds (C3)."""
    if capacity is not None:
        capacity = int(capacity)
        if capacity < 0:
            raise InvalidParameter("The value of parameter 'sku.capacity' must be zero or more.", rule="C3")
        res.body["sku"]["capacity"] = capacity
    if tags is not None:
        res.body["tags"] = tags
    res.props["provisioningState"] = "Updating"
    bump_etag(res)


def delete_reservation(backend, rid):
    res = backend.get(rid)
    if res is None:
        return None
    users = reservation_consumers(backend, res)
    if users:
        raise OperationNotAllowed(
            "Capacity reservation '{}' cannot be deleted because it is associated with {} virtual machine(s), "
            "e.g. '{}'. Remove the associations first.".format(rid.name, len(users), users[0][0]), rule="C4")
    return backend.begin(res.body["location"], "removed", id=str(rid))


def render_reservation(backend, res, instance_view=False):
    body = copy.deepcopy(res.body)
    props = body.setdefault("properties", {})
    _set_list(props, "virtualMachinesAssociated", [{"id": cid} for cid, _ in reservation_consumers(backend, res)])
    if instance_view:
        props["instanceView"] = {"utilizationInfo": _utilization(backend, res), "statuses": _statuses(backend, res)}
    return body


def _set_list(props, key, items):
    """Compute leaves empty lists out of its answers (wire: group PUT, reservation GET and list)."""
    if items:
        props[key] = items


def _utilization(backend, res):
    return {"currentCapacity": res.body["sku"]["capacity"],
            "virtualMachinesAllocated": [{"id": cid} for cid, c in reservation_consumers(backend, res)
                                         if power.allocated(c)]}


def _statuses(backend, res):
    state = res.props.get("provisioningState", "Succeeded").lower()
    return [{"code": "ProvisioningState/" + state, "level": "Info",
             "displayStatus": "Provisioning " + state, "time": res.props.get("provisioningTime")
             or res.props.get("timeCreated")}]


# --- accounting (C1, P2) -----------------------------------------------------------------------
def consumer_id(res):
    """The id a consumer has in association lists: VMs by their id, Uniform instances under their scale set."""
    return str(res.id)


def associated(backend, group):
    """(id, resource) of every machine associated with the group, allocated or not (C1)."""
    out = []
    for type_ in CONSUMER_TYPES:
        for res in backend.of_type(type_):
            if same_id(res.state.get("crg"), str(group.id)):
                out.append((consumer_id(res), res))
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
    gid = ResourceId.parse(group_id)
    if gid is None:
        return None
    for r in backend.children(gid, RESERVATION):
        if matches(r, size, zone):
            return r
    return None


def require_existing_group(backend, group_id):
    gid = ResourceId.parse(group_id)
    group = backend.get(gid) if gid else None
    if group is None:
        raise ResourceNotFound("Capacity reservation group '{}' was not found.".format(group_id))
    return group
