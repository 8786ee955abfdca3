# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Control endpoints outside ARM's namespace: request log, rules, reset, faults, write budget, health."""
from .. import rules
from ..errors import InvalidParameter
from ..faults import FaultSpecError
from ..server import Response


def requests_log(app):
    def handler(backend, req):
        if req.method == "DELETE":
            app.log.clear()
            return Response(200, {"cleared": True})
        since = int(req.query.get("since") or 0)
        entries = app.log.since(since)
        return {"requests": entries, "next": since + len(entries)}
    return handler


def list_rules(backend, req):
    return {"rules": rules.describe(backend.options)}


def reset(backend, req):
    backend.reset()
    backend.save()
    return {"reset": True}


def faults(backend, req):
    """GET: the fault spec and what was injected, by kind. POST {"spec": "...", "enabled": bool}: a new spec (which
    resets the counts) and/or pause and resume (faults.py)."""
    if req.method == "POST":
        body = req.json or {}
        try:
            backend.faults.configure(body.get("spec"), body.get("enabled"))
        except FaultSpecError as e:
            raise InvalidParameter(str(e), target="spec") from e
    return backend.faults.report()


def throttle_counters(app):
    """GET: the write budget's counters (404 without --write-budget); DELETE resets the budget and them (W13)."""
    def handler(backend, req):
        if app.throttle is None:
            return Response(404, {"error": {"code": "NotFound", "message": "armsim runs without --write-budget."}})
        if req.method == "DELETE":
            app.throttle.reset()
        return app.throttle.status()
    return handler


def health(backend, req):
    return {"status": "ok", "resources": len(backend.resources), "pendingEvents": len(backend.events)}


def add_routes(r, app):
    r.add("GET DELETE", "/simulator/requests", requests_log(app), public=True)
    r.add("GET", "/simulator/rules", list_rules, public=True)
    r.add("POST", "/simulator/reset", reset, public=True)
    r.add("GET", "/simulator/health", health, public=True)
    r.add("GET POST", "/simulator/faults", faults, public=True)
    r.add("GET DELETE", "/simulator/throttle", throttle_counters(app), public=True)
