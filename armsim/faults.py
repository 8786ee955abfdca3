# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Fault injection: the failures Azure really produces, chosen deterministically from a seed.

A spec is a comma-separated list (`--faults` on `up`/`serve`, or `POST /simulator/faults {"spec": ...}`):

    seed=7,throttle=0.05,error500=0.02,lro-failed:deallocate=0.1,conflict=0.05,reset=0.02,slow=0.1:1.5

Each item is `KIND[:OPERATION]=RATE[:VALUE]`. Kinds:

- `throttle`    429 TooManyRequests with Retry-After (VALUE seconds, default 1)
- `error500`    500 InternalServerError; `error503`: 503 ServiceUnavailable
- `conflict`    409 Conflict or OperationNotAllowed: another operation is in progress on the resource (writes)
- `reset`       the connection is closed without an answer, before the request is handled
- `reset-after` the request is handled, then the connection is closed without an answer (the answer is lost)
- `slow`        the answer is delayed by VALUE seconds (default 1)
- `lro-failed`  a long-running operation ends `Failed` with an error (rule F2 says what it leaves behind)

OPERATION narrows an item to one kind of request: `read`, `poll` (operation status), `write` (any write),
`update` (PUT/PATCH), `delete`, or a POST action (`deallocate`, `start`, `manualupgrade`, ...). Without it the
item applies to every request it can (`conflict` only to writes, `lro-failed` only to operations).

Faults are never injected on /simulator/*, the token endpoint or cloud metadata (public routes). A refused
request changes nothing (rule F1). A decision depends only on the seed, the request (method and path, with
GUIDs masked) and how many times that request was seen before, so that the same requests meet the same
faults whatever the interleaving of concurrent requests on other resources.
"""
import hashlib
import re
import threading
import time

KINDS = ("reset", "throttle", "error503", "error500", "conflict", "slow", "reset-after", "lro-failed")
REQUEST_KINDS = KINDS[:-1]  # decided when a request arrives; lro-failed when an operation completes
DEFAULT_VALUE = {"throttle": 1.0, "slow": 1.0}
READS = ("read", "poll")
OPERATIONS = READS + ("write", "update", "delete", "deallocate", "start", "poweroff", "restart", "reimage",
                      "reimageall", "redeploy", "manualupgrade", "osrollingupgrade", "cancel")
LRO_OPERATIONS = {"vmss_updated": "update", "provisioned_vm": "update", "provisioned": "update",
                  "upgraded": "manualupgrade"}  # event -> operation; power_done's operation is its action
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SUFFIX = " (armsim fault: {})"

THROTTLE_MSG = ("The request is being throttled as the limit has been reached for operation type - {op}. For more "
                "information, see - https://aka.ms/armthrottling")
ERROR500_MSG = "Encountered internal server error. Please try again."
ERROR503_MSG = "The service is temporarily unavailable. Please try again later."
CONFLICT_MSG = ("The request failed due to conflict with a concurrent request. To resolve it, please refer to "
                "https://aka.ms/activitylog to get more details on the conflicting requests.")
NOT_ALLOWED_MSG = "Operation '{op}' is not allowed on '{name}' since another operation is in progress on it."
LRO_ERRORS = (("InternalExecutionError", "An internal execution error occurred. Please retry later."),
              ("OperationPreempted", "Operation execution has been preempted by a more recent operation."))


class FaultSpecError(ValueError):
    pass


class Item:
    def __init__(self, kind, operation, rate, value):
        self.kind, self.operation, self.rate, self.value = kind, operation, rate, value

    def applies(self, operation):
        if self.kind == "conflict" and operation in READS:
            return False
        if self.operation is None:
            return True
        return self.operation == operation or (self.operation == "write" and operation not in READS)

    def __str__(self):
        text = self.kind + (":" + self.operation if self.operation else "") + "=" + _number(self.rate)
        if self.kind in DEFAULT_VALUE and self.value != DEFAULT_VALUE[self.kind]:
            text += ":" + _number(self.value)
        return text


def parse(spec):
    """(seed, [Item]) from a spec string; FaultSpecError names what is wrong."""
    seed, items = 0, []
    for part in [p.strip() for p in (spec or "").split(",") if p.strip()]:
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if not eq:
            raise FaultSpecError("armsim: --faults: '{}' is not KIND[:OPERATION]=RATE (e.g. throttle=0.05)".format(
                part))
        if name == "seed":
            try:
                seed = int(value)
            except ValueError:
                raise FaultSpecError("armsim: --faults: seed must be an integer, not '{}'".format(value)) from None
            continue
        kind, _, operation = name.partition(":")
        if kind not in KINDS:
            raise FaultSpecError("armsim: --faults: unknown fault '{}'; known: {}".format(kind, ", ".join(KINDS)))
        operation = operation.strip() or None
        if operation is not None and operation not in OPERATIONS:
            raise FaultSpecError("armsim: --faults: unknown operation '{}' in '{}'; known: {}".format(
                operation, part, ", ".join(OPERATIONS)))
        rate_text, _, extra = value.partition(":")
        try:
            rate = float(rate_text)
            extra_value = float(extra) if extra else DEFAULT_VALUE.get(kind)
        except ValueError:
            raise FaultSpecError("armsim: --faults: '{}': the rate (and value) must be numbers".format(part)) from None
        if not 0 <= rate <= 1:
            raise FaultSpecError("armsim: --faults: '{}': the rate must be between 0 and 1".format(part))
        if extra and kind not in DEFAULT_VALUE:
            raise FaultSpecError("armsim: --faults: '{}': only throttle and slow take a value".format(part))
        if extra_value is not None and extra_value < 0:
            raise FaultSpecError("armsim: --faults: '{}': the value must be 0 or more".format(part))
        items.append(Item(kind, operation, rate, extra_value))
    items.sort(key=lambda i: KINDS.index(i.kind))  # a stable order of precedence
    return seed, items


def operation(method, path):
    """What a request does, as items name it: read, poll, update, delete, or a POST action's name."""
    lower = path.lower().rstrip("/")
    if "/operations/" in lower or "/operationresults/" in lower:
        return "poll"
    if method in ("GET", "HEAD"):
        return "read"
    if method in ("PUT", "PATCH"):
        return "update"
    if method == "DELETE":
        return "delete"
    return lower.rsplit("/", 1)[-1]


class Faults:
    """The current spec, its decisions, and what was injected. Thread-safe; the sleeps happen outside any lock."""

    def __init__(self, spec=""):
        self.lock = threading.Lock()
        self.configure(spec)

    def configure(self, spec=None, enabled=None):
        """A new spec (None keeps the current one) resets the counts; `enabled` pauses or resumes injection."""
        seed, items = parse(spec) if spec is not None else (None, None)
        with self.lock:
            if spec is not None:
                self.seed, self.items, self.enabled = seed, items, True
                self.seen, self.injected, self.requests, self.operations = {}, {}, 0, 0
            if enabled is not None:
                self.enabled = bool(enabled)

    def report(self):
        with self.lock:
            return {"spec": ",".join(["seed={}".format(self.seed)] + [str(i) for i in self.items]),
                    "seed": self.seed, "enabled": self.enabled, "active": self.active(),
                    "injected": dict(sorted(self.injected.items())),
                    "seen": {"requests": self.requests, "operations": self.operations}}

    def active(self):
        return self.enabled and any(i.rate > 0 for i in self.items)

    def _draw(self, key, kinds):
        """The first item of `kinds` that fires for this occurrence of `key` (key[0] is the operation), and a
        second number in [0, 1) to choose among its variants; (None, None) when none fires."""
        with self.lock:
            if not self.active():
                return None, None
            n = self.seen.get(key, 0)
            self.seen[key] = n + 1
            for item in self.items:
                if item.kind in kinds and item.applies(key[0]) and _uniform(self.seed, item, key, n) < item.rate:
                    self.injected[item.kind] = self.injected.get(item.kind, 0) + 1
                    return item, _uniform(self.seed, item, key, -1 - n)
            return None, None

    # --- requests (the hook in server.App.dispatch) ---------------------------------------------------------
    def on_request(self, req):
        """Before an ARM request is handled: None to go on, or (status, body, headers) to answer instead.

        Sets `req.fault` to the kind injected; `reset` and `reset-after` make the server close the connection.
        """
        if not self.active():
            return None
        op = operation(req.method, req.path)
        key = (op, req.method, GUID.sub("*", req.path.lower()).rstrip("/"))
        with self.lock:
            self.requests += 1
        slow, _ = self._draw(key + ("slow",), ("slow",))
        if slow:
            time.sleep(slow.value)
        item, variant = self._draw(key, [k for k in REQUEST_KINDS if k != "slow"])
        if item is None:
            req.fault = "slow" if slow else None
            return None
        req.fault = item.kind
        return None if item.kind == "reset-after" else refusal(item, op, req.path, variant)

    # --- long-running operations (the hooks in backend.Backend) -------------------------------------------------
    def on_operation(self, backend, name, kwargs):
        """An operation is about to complete: None to let it, or the error it fails with (its effects applied:
        rule F2). Operations that are not in LRO_OPERATIONS or power actions never fail."""
        op = kwargs.get("action") if name == "power_done" else LRO_OPERATIONS.get(name)
        if op is None or not self.active():
            return None
        ids = kwargs.get("ids") or [kwargs.get("id")]
        key = (op, "lro", name, "|".join(sorted(str(i).lower() for i in ids)))
        with self.lock:
            self.operations += 1
        item, variant = self._draw(key, ("lro-failed",))
        if item is None:
            return None
        fail(backend, name, kwargs)
        code, message = LRO_ERRORS[int(variant * len(LRO_ERRORS))]
        return {"code": code, "message": message + SUFFIX.format("lro-failed")}


def fail(backend, name, kwargs):
    """What an operation that ends Failed leaves (rule F2): an action's targets keep their previous power state
    and model; a PUT/PATCH keeps the resource's new model with provisioningState Failed, and its follow-up (the
    upgrade policy, the member count) runs on the next write of the resource."""
    from .models import power
    if name == "power_done":
        during = power.ACTIONS[kwargs["action"]][0]
        for rid in kwargs["ids"]:
            res = backend.get(rid)
            if res is not None and res.state.get("power") == during:
                res.state["power"] = res.state.pop("power_before", "running")
        return
    res = backend.get(kwargs["id"])
    if res is None or name == "upgraded":
        return
    res.props["provisioningState"] = "Failed"
    if name == "vmss_updated":
        pending = res.state.setdefault("failed_update", {"upgrade": False, "group_changed": False})
        pending["upgrade"] = pending["upgrade"] or bool(kwargs.get("upgrade"))
        pending["group_changed"] = pending["group_changed"] or bool(kwargs.get("group_changed"))


def refusal(item, op, path, variant):
    suffix = SUFFIX.format(item.kind)
    if item.kind == "reset":
        return 0, None, {}
    if item.kind == "throttle":
        message = THROTTLE_MSG.format(op="Read" if op in READS else "Write")
        return 429, _error("TooManyRequests", message + suffix), {"Retry-After": str(int(round(item.value)))}
    if item.kind == "error500":
        return 500, _error("InternalServerError", ERROR500_MSG + suffix), {}
    if item.kind == "error503":
        return 503, _error("ServiceUnavailable", ERROR503_MSG + suffix), {}
    name = path.rstrip("/").rsplit("/", 2)[-2 if op not in ("update", "delete") else -1]
    if variant < 0.5:  # Azure answers with either code
        return 409, _error("Conflict", CONFLICT_MSG + suffix), {}
    return 409, _error("OperationNotAllowed", NOT_ALLOWED_MSG.format(op=op, name=name) + suffix), {}


def _error(code, message):
    return {"error": {"code": code, "message": message}}


def _uniform(seed, item, key, n):
    """A number in [0, 1) that depends only on its arguments."""
    text = "|".join([str(seed), item.kind, item.operation or "", *[str(k) for k in key], str(n)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2.0 ** 64


def _number(value):
    return ("%g" % value) if value is not None else ""
