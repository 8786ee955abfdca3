"""Helpers shared by the resource families' models."""
import uuid

from ..backend import Resource, iso
from ..errors import InvalidParameter, LinkedInvalidPropertyId, ResourceGroupNotFound, GROUP_NOT_FOUND_MSG
from ..ids import ResourceId, norm_id

KEEP = object()  # "the request does not say": keep what is there


def merge(target, patch):
    """Compute's PATCH: objects merge, lists and scalars replace, null means "not given" (keeps the value)."""
    if not isinstance(patch, dict):
        return target if patch is None else patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is not None:
            target[key] = merge(target.get(key), value)
    return target


def normalize_location(location):
    """ARM echoes locations lower-cased without spaces ("West Europe" -> "westeurope")."""
    return (location or "").replace(" ", "").lower()


def require_group(backend, rid):
    group = backend.get(rid.group_id)
    if group is None:
        raise ResourceGroupNotFound(GROUP_NOT_FOUND_MSG.format(group=rid.group))
    return group


def requested_association(capacity_reservation, path):
    """What a request body says about an association (rule A1).

    Returns KEEP when it says nothing (`capacityReservation` or `capacityReservationGroup` missing or
    null), None when it clears (`capacityReservationGroup: {}` or `{"id": null}`), else the group id.
    """
    if not isinstance(capacity_reservation, dict):
        return KEEP
    group = capacity_reservation.get("capacityReservationGroup")
    if group is None or not isinstance(group, dict):
        return KEEP
    gid = group.get("id")
    if gid is None:
        return None
    if not isinstance(gid, str) or not gid.strip():
        raise LinkedInvalidPropertyId(
            "Property id '{}' at path '{}.capacityReservationGroup.id' is invalid. Expect fully qualified resource "
            "Id that start with '/subscriptions/{{subscriptionId}}' or "
            "'/providers/{{resourceProviderNamespace}}/'.".format(gid, path), rule="A1")
    rid = ResourceId.parse(norm_id(gid))
    if rid is None or rid.full_type.lower() != "microsoft.compute/capacityreservationgroups":
        raise LinkedInvalidPropertyId(
            "Property id '{}' at path '{}.capacityReservationGroup.id' is invalid. Expect fully qualified resource "
            "Id that start with '/subscriptions/{{subscriptionId}}' or "
            "'/providers/{{resourceProviderNamespace}}/'.".format(gid, path), rule="A1")
    return norm_id(gid)


def association_body(group_id):
    return {"capacityReservationGroup": {"id": group_id}} if group_id else None


def new_resource(rid, body, location, state=None):
    """A resource with the fields ARM manages set: id, name, type, location."""
    body = dict(body)
    body.update(id=str(rid), name=rid.name, type=rid.full_type, location=normalize_location(location))
    return Resource(rid, body, state)


def stamp_created(backend, res):
    res.props.setdefault("timeCreated", iso(backend.now()))


def bump_etag(res):
    n = int(res.state.get("etag", 0)) + 1
    res.state["etag"] = n
    res.body["etag"] = '"{}"'.format(n)


def guid():
    return str(uuid.uuid4())


def require(value, message, rule=None):
    if not value:
        raise InvalidParameter(message, rule=rule)
    return value
