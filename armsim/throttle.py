# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Azure-like write throttling (decision rule W13): a budget of writes per rolling minute.

With `--write-budget N`, at most N writes (PUT, PATCH, POST, DELETE under /subscriptions/) are accepted in any
60 seconds; with `--write-budget N/S`, in any S seconds (1200/3600 is ARM's classic hourly limit). A write
beyond the budget is refused before it reaches the resource provider with 429 and a
Retry-After of the whole seconds until the oldest write in the window leaves it (at least 1), as ARM refuses
writes over a subscription's limit (the limit, the window and the error text are armsim's). Reads and
long-running operations' status are not throttled.

The budget also tells whether clients honour Retry-After (`GET /simulator/throttle`; `DELETE` resets):
  early_retries          a refused write sent again before the Retry-After it was given had elapsed;
  writes_during_backoff  any write arriving while a Retry-After announced to anyone had not elapsed (plus
                         GRACE seconds for requests already in flight when the 429 was sent).
"""
import collections
import math
import threading
import time

WRITES = ("PUT", "PATCH", "POST", "DELETE")
WINDOW = 60.0
GRACE = 0.25
COUNTERS = ("accepted", "throttled", "early_retries", "writes_during_backoff")
MESSAGE = ("Number of 'write' requests for subscription '{sub}' exceeded the limit of '{budget}' for time interval "
           "'{window}'. Please try again after '{retry}' seconds. (armsim rule W13)")


class Budget:
    """The writes accepted in the last WINDOW seconds, and what was announced to the refused ones."""

    def __init__(self, writes, window=WINDOW, clock=time.time):
        self.writes = int(writes)
        self.window = float(window)
        self.clock = clock
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.accepted = collections.deque()
            self.retry_at = {}  # (method, path) of a refused write -> when its Retry-After elapses
            self.backoff = (0.0, 0.0)  # [from, until): a Retry-After announced to someone has not elapsed
            self.counters = dict.fromkeys(COUNTERS, 0)

    def admit(self, method, path, sub):
        """None when the write may go on, else the seconds to announce in Retry-After."""
        now = self.clock()
        key = (method, path.lower())
        with self.lock:
            if now < self.retry_at.get(key, 0.0):
                self.counters["early_retries"] += 1
            if self.backoff[0] <= now < self.backoff[1]:
                self.counters["writes_during_backoff"] += 1
            while self.accepted and self.accepted[0] <= now - self.window:
                self.accepted.popleft()
            if len(self.accepted) < self.writes:
                self.accepted.append(now)
                self.retry_at.pop(key, None)
                self.counters["accepted"] += 1
                return None
            retry = max(1, int(math.ceil(self.accepted[0] + self.window - now)))
            self.retry_at[key] = now + retry
            start, until = self.backoff
            self.backoff = (start if now < until else now + GRACE, max(until, now + retry))
            self.counters["throttled"] += 1
            return retry

    def status(self):
        with self.lock:
            now = self.clock()
            in_window = sum(1 for t in self.accepted if t > now - self.window)
            return dict(self.counters, writes=self.writes, windowSeconds=self.window,
                        remaining=max(0, self.writes - in_window))

    def describe(self):
        return "{} writes per {:g} s".format(self.writes, self.window)


class BudgetOptionError(ValueError):
    pass


def parse(text):
    """(writes, window seconds) from `N` (per minute) or `N/S`; None for no budget (None, '', 0)."""
    if text in (None, "", 0, "0"):
        return None
    writes, _, window = str(text).partition("/")
    try:
        writes, window = int(writes), float(window or WINDOW)
    except ValueError:
        writes = window = 0
    if writes < 1 or window <= 0:
        raise BudgetOptionError("armsim: --write-budget {}: expected N (writes per minute) or N/S (writes per S "
                                "seconds), N at least 1".format(text))
    return writes, window


def of(options):
    """The budget the options ask for, or None (no throttling)."""
    parsed = parse(getattr(options, "write_budget", None))
    return Budget(*parsed) if parsed else None


def check(budget, req):
    """Rule W13: None, or (status, body, headers) of the 429 answer to a write over the budget."""
    if budget is None or req.method not in WRITES or not req.path.lower().startswith("/subscriptions/"):
        return None
    sub = req.path.split("/")[2]
    retry = budget.admit(req.method, req.path, sub)
    if retry is None:
        return None
    body = {"error": {"code": "SubscriptionRequestsThrottled",
                      "message": MESSAGE.format(sub=sub, budget=budget.writes, window=_interval(budget.window),
                                                retry=retry)}}
    return 429, body, {"Retry-After": retry, "x-ms-ratelimit-remaining-subscription-writes": 0}


def _interval(seconds):
    seconds = int(round(seconds))
    return "{:02d}:{:02d}:{:02d}".format(seconds // 3600, seconds // 60 % 60, seconds % 60)
