# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The simulator's state: resources, scheduled events, long-running operations, persistence.

Knows nothing of HTTP. Time-based behaviour is a queue of named events that run when their time
comes; every request first runs the events that are due (see `tick`), so state advances on reads,
deterministically, with no background thread.
"""
import datetime
import heapq
import json
import os
import random
import threading
import time
import uuid
from collections import defaultdict

from .errors import ArmError
from .faults import Faults
from .ids import ResourceId

EVENTS = {}


def event(name):
    """Register an event handler `fn(backend, **kwargs)` under a persistent name."""
    def register(fn):
        EVENTS[name] = fn
        return fn
    return register


class Next:
    """Returned by an event handler to continue its operation later with another event."""

    def __init__(self, delay, name, **kwargs):
        self.delay, self.name, self.kwargs = delay, name, kwargs


def iso(ts):
    """ARM's timestamp format: 7 fractional digits and an explicit UTC offset."""
    dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "{:07d}".format(int((ts % 1) * 1e7)) + "+00:00"


class Options:
    """Simulator settings, from the command line."""

    def __init__(self, lro_seconds=0.0, page_size=100, state_file=None, subscription_id=None,
                 tenant_id=None, client_id=None, client_secret=None, rule_overrides=None, consistency_seconds=0.0,
                 pause_scale=1.0, write_budget=None, synchronous=False,
                 capacity=None, arm_limits=None):
        self.lro_seconds, self.lro_spread, self.lro_seed = parse_lro(lro_seconds)  # rule W16
        self.synchronous = bool(synchronous)  # rule W10: the shortcut, never the default
        self.page_size = int(page_size)
        self.consistency_seconds = float(consistency_seconds)  # rule C5
        self.pause_scale = float(pause_scale)  # rule A6: rolling upgrades' pauses between batches are scaled by it
        self.state_file = state_file
        self.subscription_id = subscription_id or "7f1f2c3d-0000-4000-8000-00000000a11c"
        self.tenant_id = tenant_id or "72f988bf-0000-4000-8000-0000000a2051"
        self.client_id = client_id or "0a5e1b2c-0000-4000-8000-0000000c11e7"
        self.client_secret = client_secret or "armsim-local-secret"
        self.rule_overrides = dict(rule_overrides or {})  # {rule id: "opposite"} (rules.parse_overrides)
        self.write_budget = write_budget  # rule W13: "N" writes per minute or "N/S" per S seconds (throttle.parse)
        self.capacity = list(capacity or [])  # rule K1: "LOCATION[/ZONE]:SIZE=COUNT" on-demand pools
        self.arm_limits = arm_limits  # rules W14, W15: "reads=250/25,writes=200/10,deletes=200/10" or "on"


class LroOptionError(ValueError):
    pass


def parse_lro(text):
    """(mean, spread, seed) from `MEAN`, `MEAN:SPREAD` or `MEAN:SPREAD:SEED` seconds (rule W16)."""
    parts = str(text if text is not None else 0).split(":")
    try:
        mean, spread, seed = float(parts[0]), float(parts[1]) if len(parts) > 1 else 0.0, \
            int(parts[2]) if len(parts) > 2 else 0
    except ValueError:
        mean = -1
    if len(parts) > 3 or mean < 0 or spread < 0:
        raise LroOptionError("armsim: --lro-seconds {}: expected MEAN, MEAN:SPREAD or MEAN:SPREAD:SEED (seconds, "
                             "0 or more; SEED an integer)".format(text))
    return mean, spread, seed


class Resource:
    """One stored resource: its ARM JSON (`body`) and simulator-only state (`state`)."""

    __slots__ = ("id", "body", "state")

    def __init__(self, rid, body, state=None):
        self.id = rid
        self.body = body
        self.state = state if state is not None else {}

    @property
    def type(self):
        return self.id.full_type

    @property
    def props(self):
        return self.body.setdefault("properties", {})


class Backend:
    def __init__(self, options=None, clock=time.time):
        self.options = options or Options()
        self.clock = clock  # in-process tests pass their own, and advance it
        self.lock = threading.RLock()
        self.faults = Faults()  # injected faults; kept across reset
        self.reset()
        if self.options.state_file and os.path.exists(self.options.state_file):
            self.load(self.options.state_file)

    def reset(self):
        self.resources = {}
        self.by_parent = defaultdict(dict)
        self.events = []
        self.operations = {}
        self.counter = 0
        self.capacity_state = None  # on-demand pools and what they lent (models/allocation.py), made when first used
        self.durations = random.Random(self.options.lro_seed)  # rule W16

    # --- clock and events -------------------------------------------------------------
    def now(self):
        return self.clock()

    def next_seq(self):
        self.counter += 1
        return self.counter

    def lro_delay(self):
        """How long the next long-running operation takes: --lro-seconds, or a draw around it (rule W16)."""
        mean, spread = self.options.lro_seconds, self.options.lro_spread
        if not spread:
            return mean
        return max(0.0, self.durations.uniform(mean - spread, mean + spread))

    def schedule(self, delay, name, op_id=None, **kwargs):
        heapq.heappush(self.events, (self.now() + delay, self.next_seq(), name, op_id, kwargs))

    def tick(self):
        """Run every event that is due, in time order. Returns True if any ran."""
        ran = False
        while self.events and self.events[0][0] <= self.now():
            _, _, name, op_id, kwargs = heapq.heappop(self.events)
            self._run_event(name, op_id, kwargs)
            ran = True
        return ran

    def _run_event(self, name, op_id, kwargs):
        op = self.operations.get(op_id) if op_id else None
        error = self.faults.on_operation(self, name, kwargs) if op else None  # an injected failure (rule F2)
        if error:
            op.update(status="Failed", endTime=iso(self.now()), error=error)
            return
        try:
            result = EVENTS[name](self, **kwargs)
        except ArmError as e:
            if op:
                op.update(status="Failed", endTime=iso(self.now()), error=e.body()["error"])
            return
        if isinstance(result, Next):
            self.schedule(result.delay, result.name, op_id, **result.kwargs)
        elif op:
            op.update(status="Succeeded", endTime=iso(self.now()))

    def begin(self, location, name, delay=None, **kwargs):
        """Start a long-running operation that ends by running event `name` after `delay` (default
        --lro-seconds); returns the operation record, for the async headers (W6). With delay 0 the event is
        due at once: the next request (the first poll) runs it. Only with --synchronous, and no delay, does the
        event run now and None come back: the caller answers synchronously (W10)."""
        delay = self.lro_delay() if delay is None else delay
        error = None
        if delay <= 0 and self.options.synchronous:
            error = self.faults.on_operation(self, name, kwargs)  # injected (rule F2)
            if not error:
                try:
                    result = EVENTS[name](self, **kwargs)
                    while isinstance(result, Next):
                        result = EVENTS[result.name](self, **result.kwargs)
                    return None
                except ArmError as e:  # it ended Failed, as it would have later (_run_event)
                    error = e.body()["error"]
        op_id = str(uuid.uuid4())
        op = {"name": op_id, "status": "InProgress", "startTime": iso(self.now()), "location": location}
        self.operations[op_id] = op
        if error:  # a synchronous operation that fails is answered as one that ran and ended Failed
            op.update(status="Failed", endTime=op["startTime"], error=error)
        else:
            self.schedule(max(0.0, delay), name, op_id, **kwargs)
        return op

    def remaining(self, op_id):
        """Seconds until the operation's next event, for Retry-After."""
        due = [t for t, _, _, oid, _ in self.events if oid == op_id]
        return max(0.0, min(due) - self.now()) if due else 0.0

    # --- store ------------------------------------------------------------------------
    def get(self, rid):
        key = rid.key if isinstance(rid, ResourceId) else rid.lower()
        return self.resources.get(key)

    def put(self, res):
        self.resources[res.id.key] = res
        parent = res.id.parent
        self.by_parent[parent.key if parent else ""][res.id.key] = res
        return res

    def remove(self, res):
        self.resources.pop(res.id.key, None)
        parent = res.id.parent
        self.by_parent[parent.key if parent else ""].pop(res.id.key, None)
        for child in list(self.by_parent.pop(res.id.key, {}).values()):
            self.remove(child)

    def children(self, parent, type_=None):
        """Resources directly under `parent` (a ResourceId), optionally of one full type."""
        items = self.by_parent.get(parent.key, {}).values()
        if type_:
            type_ = type_.lower()
            items = [r for r in items if r.type.lower() == type_]
        return sorted(items, key=lambda r: r.id.key)

    def of_type(self, type_, sub=None, group=None):
        """Every resource of one full type, optionally within a subscription or group."""
        type_ = type_.lower()
        out = []
        for r in self.resources.values():
            if r.type.lower() != type_:
                continue
            if sub and r.id.sub.lower() != sub.lower():
                continue
            if group and r.id.group.lower() != group.lower():
                continue
            out.append(r)
        return sorted(out, key=lambda r: r.id.key)

    # --- persistence ------------------------------------------------------------------
    def save(self, path=None):
        path = path or self.options.state_file
        if not path:
            return
        data = {
            "resources": [{"id": str(r.id), "body": r.body, "state": r.state} for r in self.resources.values()],
            "events": [list(e) for e in self.events],
            "operations": self.operations,
            "counter": self.counter,
            "capacity": self.capacity_state,
        }
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)

    def load(self, path):
        with open(path) as f:
            data = json.load(f)
        self.reset()
        # parents before children, so the parent index is complete
        for item in sorted(data["resources"], key=lambda i: i["id"].count("/")):
            self.put(Resource(ResourceId.parse(item["id"]), item["body"], item["state"]))
        self.events = [tuple(e) for e in data["events"]]
        heapq.heapify(self.events)
        self.operations = data["operations"]
        self.counter = data["counter"]
        self.capacity_state = data.get("capacity")
