# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Control endpoints outside ARM's namespace: request log, rules, reset, faults, write budget, capacity, health."""
from .. import rules
from ..errors import InvalidParameter
from ..faults import FaultSpecError
from ..models import allocation
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


def capacity(backend, req):
    """GET: the on-demand pools (free machines by "LOCATION[/ZONE]:SIZE"), whether draws count, and how many
    allocations failed. POST {"pools": {"LOCATION[/ZONE]:SIZE": COUNT or null}, "enforced": bool}: set pools (null:
    unlimited) and pause or resume the accounting (rules K1-K7; `seed` pauses it: what it makes holds its machines
    already)."""
    if req.method == "POST":
        body = req.json or {}
        try:
            return allocation.configure(backend, body.get("pools"), body.get("enforced"))
        except allocation.CapacitySpecError as e:
            raise InvalidParameter(str(e), target="pools") from e
    return allocation.describe(backend)


def throttle_counters(app):
    """GET: the throttles' counters, by kind of request (404 without --write-budget or --arm-limits); DELETE fills
    the buckets and empties the budget's window, and resets the counters (W13-W15)."""
    def handler(backend, req):
        if app.throttle is None:
            message = "armsim runs without --write-budget or --arm-limits."
            return Response(404, {"error": {"code": "NotFound", "message": message}})
        if req.method == "DELETE":
            app.throttle.reset()
        return app.throttle.status()
    return handler


def rolling_end(backend, req):
    """POST {"scaleSet": id, "end": "Faulted" | "Cancelled", "afterBatches": 0}: the scale set's next rolling
    upgrade ends so (rule A6f, a test knob)."""
    from ..models import scalesets
    body = req.json or {}
    res = _scale_set(backend, body)
    scalesets.arm_rolling_end(res, body.get("end"), body.get("afterBatches") or 0)
    backend.save()
    return {"scaleSet": str(res.id), "armed": res.state["rolling_end"]}


def scale_out(backend, req):
    """POST {"scaleSet": id, "count": 1}: the scale set's next action first adds that many instances (rule A6a, a
    test knob)."""
    res = _scale_set(backend, req.json or {})
    from ..models import scalesets
    scalesets.arm_scale_out(res, (req.json or {}).get("count") or 1)
    backend.save()
    return {"scaleSet": str(res.id), "armed": res.state["scale_out"]}


def _scale_set(backend, body):
    from ..ids import ResourceId
    from ..models import scalesets
    rid = ResourceId.parse(body.get("scaleSet") or "")
    if rid is None:
        raise InvalidParameter("scaleSet must be a scale set id.", target="scaleSet")
    return scalesets.get(backend, rid)


def health(backend, req):
    return {"status": "ok", "resources": len(backend.resources), "pendingEvents": len(backend.events)}


def add_routes(r, app):
    r.add("GET DELETE", "/simulator/requests", requests_log(app), public=True)
    r.add("GET", "/simulator/rules", list_rules, public=True)
    r.add("POST", "/simulator/reset", reset, public=True)
    r.add("GET", "/simulator/health", health, public=True)
    r.add("POST", "/simulator/rolling-upgrades", rolling_end, public=True)
    r.add("POST", "/simulator/scale-out", scale_out, public=True)
    r.add("GET POST", "/simulator/faults", faults, public=True)
    r.add("GET POST", "/simulator/capacity", capacity, public=True)
    r.add("GET DELETE", "/simulator/throttle", throttle_counters(app), public=True)
