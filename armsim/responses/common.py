# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Rendering helpers shared by the resource families: long-running operations (W6) and paging (W7)."""
import math

from ..errors import BadRequest
from ..server import Response


def api_version(req):
    version = req.query.get("api-version")
    if not version:
        raise BadRequest("The api-version query parameter (?api-version=) is required for all requests.")
    return version


def operation_url(req, sub, location, op):
    path = "/subscriptions/{}/providers/Microsoft.Compute/locations/{}/operations/{}".format(
        sub, location, op["name"])
    return req.url(path, **{"api-version": req.query.get("api-version", "2024-11-01")})


def retry_after(backend, op):
    """{"Retry-After": whole seconds until the operation's next step, at least 1}, or {} when that step is due
    now: the next poll finds it done, as Azure's answers (which carry none) say by leaving it out (decision W10)."""
    left = backend.remaining(op["name"]) if op["status"] == "InProgress" else 0
    return {"Retry-After": max(1, int(math.ceil(left)))} if left > 0 else {}


def lro(req, backend, sub, op, status, body=None, location_header=False):
    """The answer to a write: `status` with the async headers (W6); synchronous (200, or 201 for a create)
    only when `op` is None (--synchronous, W10).

    PUT/PATCH carry Azure-AsyncOperation; POST and DELETE also carry Location (monitor URL).
    """
    if op is None:
        return Response(200 if status == 202 else status, body)
    url = operation_url(req, sub, op["location"], op)
    headers = {"Azure-AsyncOperation": url, "Azure-AsyncNotification": "Enabled"}
    headers.update(retry_after(backend, op))
    if location_header:
        headers["Location"] = url + "&monitor=true"
    return Response(status, body, headers)


def page(req, items, render, page_size):
    """A list response of `render(item)` for each item, split into pages linked by nextLink."""
    start = int(req.query.get("$skiptoken") or 0)
    chunk = items[start:start + page_size]
    out = {"value": [render(i) for i in chunk]}
    if start + page_size < len(items):
        query = [p for p in req.query_string.split("&") if p and not p.lower().startswith("%24skiptoken")
                 and not p.lower().startswith("$skiptoken")]
        query.append("$skiptoken={}".format(start + page_size))
        out["nextLink"] = req.base_url + req.raw_path + "?" + "&".join(query)
    return out
