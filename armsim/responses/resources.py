# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Resource groups and resources of other providers (opaque storage)."""
from ..errors import SubscriptionNotFound
from ..ids import ResourceId
from ..models import network, resources
from ..server import Response
from .common import api_version, page, retry_after


def _check_sub(backend, sub):
    if sub.lower() != backend.options.subscription_id.lower():
        raise SubscriptionNotFound("The subscription '{}' could not be found.".format(sub))


def put_group(backend, req, sub, group):
    _check_sub(backend, sub)
    api_version(req)
    res, created = resources.put_group(backend, sub, group, req.json or {})
    return Response(201 if created else 200, res.body)


def get_group(backend, req, sub, group):
    _check_sub(backend, sub)
    res = resources.get_group(backend, sub, group)
    if req.method == "HEAD":
        return Response(204)
    return res.body


def delete_group(backend, req, sub, group):
    _check_sub(backend, sub)
    op = resources.delete_group(backend, sub, group)
    if op is None:
        return Response(200)
    # ARM answers a group delete with a Location to poll, under /operationresults
    url = req.url("/subscriptions/{}/operationresults/{}".format(sub, op["name"]),
                  **{"api-version": req.query.get("api-version")})
    return Response(202, None, {"Location": url, "Retry-After": retry_after(backend, op)})


def list_groups(backend, req, sub):
    _check_sub(backend, sub)
    return page(req, resources.list_groups(backend, sub), lambda r: r.body, backend.options.page_size)


def put_generic(backend, req, sub, group, ns, rest):
    rid = _generic_id(sub, group, ns, rest)
    if network.supports(rid.full_type):
        res, created, _ = network.put(backend, rid, req.json)
        return Response(201 if created else 200, resources.get_generic(backend, rid))
    res, created = resources.put_generic(backend, rid, req.json)
    return Response(201 if created else 200, res.body)


def get_generic(backend, req, sub, group, ns, rest):
    return resources.get_generic(backend, _generic_id(sub, group, ns, rest))


def delete_generic(backend, req, sub, group, ns, rest):
    rid = _generic_id(sub, group, ns, rest)
    res = backend.get(rid)
    if res is not None and network.supports(rid.full_type):
        network.delete(backend, res)
        return Response(200)
    return Response(200 if resources.delete_generic(backend, rid) else 204)


def list_generic(backend, req, sub, group, ns, type_):
    items = resources.list_generic(backend, sub, group, ns, type_)
    return page(req, items, lambda r: r.body, backend.options.page_size)


def list_generic_sub(backend, req, sub, ns, type_):
    return list_generic(backend, req, sub, None, ns, type_)


def _generic_id(sub, group, ns, rest):
    parts = rest.strip("/").split("/")
    return ResourceId(sub, group, ns, parts[0::2], parts[1::2])


def add_routes(r):
    base = "/subscriptions/{sub}/resourcegroups/{group}"
    r.add("GET", "/subscriptions/{sub}/resourcegroups", list_groups)
    r.add("PUT", base, put_group)
    r.add("GET", base, get_group)
    r.add("DELETE", base, delete_group)


def add_generic_routes(r):
    """Last in the table: anything under a provider armsim does not model."""
    base = "/subscriptions/{sub}/resourcegroups/{group}/providers/{ns}"
    r.add("GET", "/subscriptions/{sub}/providers/{ns}/{type_}", list_generic_sub)
    r.add("GET", base + "/{type_}", list_generic)
    for method, fn in (("PUT", put_generic), ("GET", get_generic), ("DELETE", delete_generic)):
        r.add(method, base, fn, tail=r"(?P<rest>(?:/[^/]+/[^/]+)+)")
