# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTP for virtual machines."""
from ..ids import ResourceId
from ..models import vms
from ..server import Response, unknown_route
from .common import api_version, lro, page


def _vm_id(sub, group, name):
    return ResourceId(sub, group, "Microsoft.Compute", ["virtualMachines"], [name])


def put_vm(backend, req, sub, group, name):
    api_version(req)
    res, created, op = vms.put_vm(backend, _vm_id(sub, group, name), req.json, patch=req.method == "PATCH",
                                  if_match=req.headers.get("If-Match"), if_none_match=req.headers.get("If-None-Match"))
    return lro(req, backend, sub, op, 201 if created else 200, vms.render(backend, res))


def get_vm(backend, req, sub, group, name):
    return vms.render(backend, vms.get(backend, _vm_id(sub, group, name)), req.query.get("$expand"))


def delete_vm(backend, req, sub, group, name):
    op = vms.delete_vm(backend, _vm_id(sub, group, name))
    return lro(req, backend, sub, op, 202, location_header=True) if op else Response(204)


def instance_view(backend, req, sub, group, name):
    return vms.instance_view(backend, vms.get(backend, _vm_id(sub, group, name)))


def vm_action(backend, req, sub, group, name, action):
    if action.lower() not in vms.ACTIONS:
        raise unknown_route(req.method, req.path)
    res = vms.get(backend, _vm_id(sub, group, name))
    op = vms.action(backend, [res], action.lower())
    return lro(req, backend, sub, op, 202, location_header=True)


def list_vms(backend, req, sub, group=None):
    items = vms.list_vms(backend, sub, group, req.query.get("$filter"))
    return page(req, items, lambda r: vms.render(backend, r, req.query.get("$expand")), backend.options.page_size)


def add_routes(r):
    base = "/subscriptions/{sub}/resourcegroups/{group}/providers/Microsoft.Compute/virtualMachines"
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines", list_vms)
    r.add("GET", base, list_vms)
    r.add("PUT PATCH", base + "/{name}", put_vm)
    r.add("GET", base + "/{name}", get_vm)
    r.add("DELETE", base + "/{name}", delete_vm)
    r.add("GET", base + "/{name}/instanceView", instance_view)
    r.add("POST", base + "/{name}/{action}", vm_action)
