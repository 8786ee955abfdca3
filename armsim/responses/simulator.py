"""Control endpoints outside ARM's namespace: request log, rules, reset, health."""
from .. import rules
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


def health(backend, req):
    return {"status": "ok", "resources": len(backend.resources), "pendingEvents": len(backend.events)}


def add_routes(r, app):
    r.add("GET DELETE", "/simulator/requests", requests_log(app), public=True)
    r.add("GET", "/simulator/rules", list_rules, public=True)
    r.add("POST", "/simulator/reset", reset, public=True)
    r.add("GET", "/simulator/health", health, public=True)
