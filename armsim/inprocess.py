# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The simulator in the test's own process (moto's pattern): the application called directly, without a socket,
TLS or a token round trip, on a clock the test moves. For tests that only need the model and its rules; tests
about `az` run stock `az` against a served simulator."""
import json
import time
from email.message import Message

from . import auth
from .app import build
from .backend import Options
from .client import API, Calls
from .server import Request

BASE = "https://armsim.invalid"


class Clock:
    """Time that passes only when the test says so."""

    def __init__(self, start=None):
        self.time = time.time() if start is None else start

    def __call__(self):
        return self.time

    def advance(self, seconds):
        self.time += seconds


class InProcess(Calls):
    """Same `call`/`request`/`list` as armsim.client.Client; `advance(seconds)` moves the simulator's clock, and
    waiting for an operation moves it to the operation's next step."""

    def __init__(self, **options):
        self.clock = Clock()
        self.app = build(Options(**options))
        self.app.backend.clock = self.clock
        if self.app.throttle:
            self.app.throttle.reset()  # full buckets at the test clock's time
        self.app.base_url = BASE
        self.backend = self.app.backend
        self.sub = self.backend.options.subscription_id
        self.token = auth.issue(self.backend.options)

    def call(self, method, path, body=None, headers=None, auth=True):
        """(status, headers, json body or None), as the served simulator would answer. Paths may be URLs."""
        target = path[len(BASE):] if path.startswith(BASE) else path
        if "api-version=" not in target and not target.startswith("/simulator/"):
            target += ("&" if "?" in target else "?") + "api-version=" + API
        message = Message()
        message["Content-Type"] = "application/json"
        if auth:
            message["Authorization"] = "Bearer " + self.token
        for key, value in (headers or {}).items():
            message[key] = value
        raw = json.dumps(body).encode() if body is not None else b""
        resp = self.app.dispatch(Request(method, target, message, raw, BASE))
        data = resp.body
        if isinstance(data, bytes):
            data = json.loads(data) if data else None
        return resp.status, dict(resp.headers), json.loads(json.dumps(data)) if data is not None else None

    def advance(self, seconds):
        self.clock.advance(seconds)

    def pause(self):
        """Move the clock to the next scheduled step (an operation that is polled is never left waiting)."""
        events = self.backend.events
        self.clock.advance(max(0.001, events[0][0] - self.clock()) if events else 0.001)
