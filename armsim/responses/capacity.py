# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTP for capacity reservation groups and capacity reservations."""
from ..ids import ResourceId
from ..models import capacity
from ..server import Response
from .common import api_version, lro, page

NS = "Microsoft.Compute"


def _group_id(sub, group, name):
    return ResourceId(sub, group, NS, ["capacityReservationGroups"], [name])


def _expand(req):
    return "instanceview" in req.query.get("$expand", "").lower()


def put_group(backend, req, sub, group, name):
    api_version(req)
    res, created, op = capacity.put_group(backend, _group_id(sub, group, name), req.json)
    body = capacity.render_group(backend, res)
    if created:  # the 201 does not show the sharing profile (wire: test_capacity_reservation_sharing_profile #0)
        body["properties"].pop("sharingProfile", None)
    return lro(req, backend, sub, op, 201 if created else 200, body)


def patch_group(backend, req, sub, group, name):
    res, op = capacity.patch_group(backend, _group_id(sub, group, name), req.json)
    return lro(req, backend, sub, op, 200, capacity.render_group(backend, res))


def get_group(backend, req, sub, group, name):
    res = capacity.get(backend, _group_id(sub, group, name))
    return capacity.render_group(backend, res, instance_view=_expand(req))


def delete_group(backend, req, sub, group, name):
    rid = _group_id(sub, group, name)
    op = capacity.delete_group(backend, rid)
    if op is None and backend.get(rid) is not None:
        return Response(200)
    return lro(req, backend, sub, op, 202, location_header=True) if op else Response(204)


def list_groups(backend, req, sub, group=None):
    items = backend.of_type(capacity.GROUP, sub=sub, group=group)
    ids_only = req.query.get("resourceidsonly")
    if ids_only:  # the subscription list's resourceIdsOnly form carries ids, types and locations only
        shared = capacity.shared_with(backend, sub)
        items = {"createdinsubscription": items, "sharedwithsubscription": shared}.get(
            ids_only.lower(), items + [g for g in shared if g not in items])
        render = lambda r: {"id": str(r.id), "type": capacity.GROUP, "location": r.body["location"]}  # noqa: E731
    else:
        render = lambda r: capacity.render_group(backend, r)  # noqa: E731
    return page(req, items, render, backend.options.page_size)


def put_reservation(backend, req, sub, group, name, reservation):
    api_version(req)
    rid = _group_id(sub, group, name).child("capacityReservations", reservation)
    res, created, op = capacity.put_reservation(backend, rid, req.json)
    return lro(req, backend, sub, op, 201 if created else 200, capacity.render_reservation(backend, res))


def patch_reservation(backend, req, sub, group, name, reservation):
    rid = _group_id(sub, group, name).child("capacityReservations", reservation)
    res, op = capacity.patch_reservation(backend, rid, req.json)
    return lro(req, backend, sub, op, 200, capacity.render_reservation(backend, res))


def get_reservation(backend, req, sub, group, name, reservation):
    res = capacity.get(backend, _group_id(sub, group, name).child("capacityReservations", reservation))
    return capacity.render_reservation(backend, res, instance_view=_expand(req))


def delete_reservation(backend, req, sub, group, name, reservation):
    rid = _group_id(sub, group, name).child("capacityReservations", reservation)
    op = capacity.delete_reservation(backend, rid)
    if op is None:
        return Response(200 if backend.get(rid) is None and req.method == "DELETE" else 204)
    return lro(req, backend, sub, op, 202, location_header=True)


def list_reservations(backend, req, sub, group, name):
    parent = capacity.get(backend, _group_id(sub, group, name))
    items = backend.children(parent.id, capacity.RESERVATION)
    return page(req, items, lambda r: capacity.render_reservation(backend, r), backend.options.page_size)


def add_routes(r):
    base = "/subscriptions/{sub}/resourcegroups/{group}/providers/Microsoft.Compute/capacityReservationGroups"
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/capacityReservationGroups", list_groups)
    r.add("GET", base, list_groups)
    r.add("PUT", base + "/{name}", put_group)
    r.add("PATCH", base + "/{name}", patch_group)
    r.add("GET", base + "/{name}", get_group)
    r.add("DELETE", base + "/{name}", delete_group)
    r.add("GET", base + "/{name}/capacityReservations", list_reservations)
    r.add("PUT", base + "/{name}/capacityReservations/{reservation}", put_reservation)
    r.add("PATCH", base + "/{name}/capacityReservations/{reservation}", patch_reservation)
    r.add("GET", base + "/{name}/capacityReservations/{reservation}", get_reservation)
    r.add("DELETE", base + "/{name}/capacityReservations/{reservation}", delete_reservation)
