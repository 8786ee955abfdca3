# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Long-running operation status (W6): the async-operation resource and its monitor (Location) form."""
from ..errors import NotFound
from ..server import Response
from .common import retry_after


def _operation(backend, op_id):
    op = backend.operations.get(op_id)
    if op is None:
        raise NotFound("The operation '{}' was not found.".format(op_id))
    return op


def status(backend, req, sub, location, op_id):
    op = _operation(backend, op_id)
    if req.query.get("monitor", "").lower() == "true":
        return monitor(backend, req, sub, op_id)
    body = {k: v for k, v in op.items() if k in ("startTime", "endTime", "status", "name", "error")}
    return Response(200, body, retry_after(backend, op))


def monitor(backend, req, sub, op_id):
    """200 with an empty body once done; 202 while running; a failed operation answers with its error."""
    op = _operation(backend, op_id)
    if op["status"] == "InProgress":
        return Response(202, None, dict(retry_after(backend, op),
                                        Location=req.base_url + req.raw_path + "?" + req.query_string))
    if op["status"] == "Failed":
        return Response(400, {"error": op["error"]})
    return Response(200, None)


def add_routes(r):
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op_id}", status)
    r.add("GET", "/subscriptions/{sub}/operationresults/{op_id}", monitor)
