# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTP for virtual machine scale sets and their instances."""
from ..ids import ResourceId
from ..models import scalesets
from ..server import Response, unknown_route
from .common import api_version, lro, page

ACTIONS = ("deallocate", "start", "poweroff", "restart", "reimage", "reimageall", "redeploy", "manualupgrade",
           "delete", "osrollingupgrade")
INSTANCE_ACTIONS = ("deallocate", "start", "poweroff", "restart", "reimage", "reimageall", "redeploy")


def _id(sub, group, name):
    return ResourceId(sub, group, "Microsoft.Compute", ["virtualMachineScaleSets"], [name])


def put_vmss(backend, req, sub, group, name):
    api_version(req)
    res, created, op = scalesets.put_vmss(backend, _id(sub, group, name), req.json, patch=req.method == "PATCH",
                                          if_match=req.headers.get("If-Match"),
                                          if_none_match=req.headers.get("If-None-Match"))
    return lro(req, backend, sub, op, 201 if created else 200, scalesets.render(backend, res))


def get_vmss(backend, req, sub, group, name):
    return scalesets.render(backend, scalesets.get(backend, _id(sub, group, name)))


def delete_vmss(backend, req, sub, group, name):
    op = scalesets.delete_vmss(backend, _id(sub, group, name))
    return lro(req, backend, sub, op, 202, location_header=True) if op else Response(204)


def list_vmss(backend, req, sub, group=None):
    items = backend.of_type(scalesets.VMSS, sub=sub, group=group)
    return page(req, items, lambda r: scalesets.render(backend, r), backend.options.page_size)


def vmss_action(backend, req, sub, group, name, action):
    if action.lower() not in ACTIONS:
        raise unknown_route(req.method, req.path)
    res = scalesets.get(backend, _id(sub, group, name))
    ids = (req.json or {}).get("instanceIds") if req.raw else None
    op = scalesets.action(backend, res, action, ids)
    return lro(req, backend, sub, op, 202, location_header=True)


def instance_view(backend, req, sub, group, name):
    return scalesets.scale_set_view(backend, scalesets.get(backend, _id(sub, group, name)))


def rolling_latest(backend, req, sub, group, name):
    return scalesets.rolling_latest(backend, scalesets.get(backend, _id(sub, group, name)))


def cancel_rolling(backend, req, sub, group, name):
    op = scalesets.cancel_rolling(backend, scalesets.get(backend, _id(sub, group, name)))
    return lro(req, backend, sub, op, 202, location_header=True)


def list_instances(backend, req, sub, group, name):
    res = scalesets.get(backend, _id(sub, group, name))
    expand, select = req.query.get("$expand"), req.query.get("$select")
    return page(req, scalesets.members(backend, res),
                lambda m: scalesets.render_instance(backend, res, m, expand, select), backend.options.page_size)


def get_instance(backend, req, sub, group, name, instance):
    res = scalesets.get(backend, _id(sub, group, name))
    return scalesets.render_instance(backend, res, scalesets.member(backend, res, instance), req.query.get("$expand"))


def put_instance(backend, req, sub, group, name, instance):
    res = scalesets.get(backend, _id(sub, group, name))
    inst = scalesets.member(backend, res, instance)
    op = scalesets.update_instance(backend, res, inst, req.json)
    return lro(req, backend, sub, op, 200, scalesets.render_instance(backend, res, inst))


def get_instance_view(backend, req, sub, group, name, instance):
    res = scalesets.get(backend, _id(sub, group, name))
    return scalesets.instance_view(backend, res, scalesets.member(backend, res, instance))


def instance_action(backend, req, sub, group, name, instance, action):
    """Per-instance actions; `*` as the instance id means all (az vmss deallocate sends `%2A`, W9)."""
    if action.lower() not in INSTANCE_ACTIONS:
        raise unknown_route(req.method, req.path)
    res = scalesets.get(backend, _id(sub, group, name))
    op = scalesets.action(backend, res, action, None if instance == "*" else [instance])
    return lro(req, backend, sub, op, 202, location_header=True)


def add_routes(r):
    base = "/subscriptions/{sub}/resourcegroups/{group}/providers/Microsoft.Compute/virtualMachineScaleSets"
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachineScaleSets", list_vmss)
    r.add("GET", base, list_vmss)
    r.add("PUT PATCH", base + "/{name}", put_vmss)
    r.add("GET", base + "/{name}", get_vmss)
    r.add("DELETE", base + "/{name}", delete_vmss)
    r.add("GET", base + "/{name}/instanceView", instance_view)
    r.add("GET", base + "/{name}/rollingUpgrades/latest", rolling_latest)
    r.add("POST", base + "/{name}/rollingUpgrades/cancel", cancel_rolling)
    r.add("GET", base + "/{name}/virtualMachines", list_instances)
    r.add("GET", base + "/{name}/virtualMachines/{instance}", get_instance)
    r.add("PUT PATCH", base + "/{name}/virtualMachines/{instance}", put_instance)
    r.add("GET", base + "/{name}/virtualMachines/{instance}/instanceView", get_instance_view)
    r.add("POST", base + "/{name}/virtualMachines/{instance}/{action}", instance_action)
    r.add("POST", base + "/{name}/{action}", vmss_action)
