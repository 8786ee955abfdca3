# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTP for template deployments in a resource group (Microsoft.Resources/deployments)."""
from ..ids import ResourceId
from ..models import deployments
from ..server import Response
from .common import api_version, lro, page

BASE = "/subscriptions/{sub}/resourcegroups/{group}/providers/Microsoft.Resources/deployments"


def _id(sub, group, name):
    return ResourceId(sub, group, "Microsoft.Resources", ["deployments"], [name])


def put_deployment(backend, req, sub, group, name):
    api_version(req)
    res, created, op = deployments.put_deployment(backend, _id(sub, group, name), req.json)
    return lro(req, backend, sub, op, 201 if created else 200, deployments.render(backend, res))


def get_deployment(backend, req, sub, group, name):
    return deployments.render(backend, deployments.get(backend, _id(sub, group, name)))


def delete_deployment(backend, req, sub, group, name):
    return Response(202 if deployments.delete_deployment(backend, _id(sub, group, name)) else 204)


def validate(backend, req, sub, group, name):
    return deployments.validate(backend, _id(sub, group, name), req.json)


def list_operations(backend, req, sub, group, name):
    res = deployments.get(backend, _id(sub, group, name))
    return page(req, deployments.operations(backend, res), lambda o: o, backend.options.page_size)


def list_deployments(backend, req, sub, group):
    items = [r for r in backend.of_type(deployments.DEPLOYMENT, sub=sub, group=group)]
    return page(req, items, lambda r: deployments.render(backend, r), backend.options.page_size)


def add_routes(r):
    r.add("GET", BASE, list_deployments)
    r.add("PUT", BASE + "/{name}", put_deployment)
    r.add("GET", BASE + "/{name}", get_deployment)
    r.add("DELETE", BASE + "/{name}", delete_deployment)
    r.add("POST", BASE + "/{name}/validate", validate)
    r.add("GET", BASE + "/{name}/operations", list_operations)
    # the operations list's path in the Deployments API has no provider segment
    r.add("GET", "/subscriptions/{sub}/resourcegroups/{group}/deployments/{name}/operations", list_operations)
