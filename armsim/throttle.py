# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Throttling: a write budget per rolling window (decision rule W13), and ARM's and Compute's token buckets
(rules W14, W15). `Limits` holds whichever the options ask for and answers for all of them (`check`).

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


def budget_of(options, clock=time.time):
    """The write budget the options ask for (W13), or None."""
    parsed = parse(getattr(options, "write_budget", None))
    return Budget(*parsed, clock=clock) if parsed else None


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


# --- ARM's token buckets (rule W14) and Compute's per-operation limits (rule W15) ------------------------------
# "Understand how Azure Resource Manager throttles requests" (learn.microsoft.com, request-limits-and-throttling):
# since 2024, per subscription, region and principal, a bucket per kind of request; a global subscription limit of
# 15 times the principal's applies to all principals together.
DOCUMENTED = {"reads": (250.0, 25.0), "writes": (200.0, 10.0), "deletes": (200.0, 10.0)}
GLOBAL_FACTOR = 15
KIND_WORD = {"reads": "read", "writes": "write", "deletes": "delete"}
ARM_MESSAGE = ("Number of '{word}' requests for subscription '{sub}' actor '{actor}' exceeded. Please try again "
               "after '{retry}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling "
               "for additional information. (armsim rule W14)")
# "Compute throttling limits" (learn.microsoft.com/azure/virtual-machines/compute-throttling-limits): per policy, a
# bucket per resource and one per subscription, sizes and refill rates per minute. Which request falls under which
# policy follows that page and the recordings' x-ms-ratelimit-remaining-resource (POST deallocate: DeleteVM; PUT of
# an existing VM: PutVM; powerOff: UpdateVM).
COMPUTE = {  # policy: (resource refill/min, resource bucket, subscription refill/min, subscription bucket)
    "PutVM": (4, 12, 500, 1500), "UpdateVM": (4, 12, 500, 1500), "DeleteVM": (4, 12, 500, 1500),
    "LowCostGet": (12, 36, 8000, 24000), "HighCostGetVM": (None, None, 300, 900),
    "GetOperation": (15, 45, 5000, 15000),
    "UpdateVMScaleSet": (None, None, 500, 1500), "DeleteVMScaleSet": (None, None, 175, 525),
    "LowCostGetVMScaleSet": (12, 36, 800, 2400), "HighCostGetVMScaleSet": (10, 30, 360, 1080),
}
VM_UPDATES = ("start", "poweroff", "restart", "redeploy", "reimage", "reapply", "performmaintenance")
COMPUTE_MESSAGE = "The server rejected the request because too many requests have been received for this subscription."
COUNTER_KEYS = ("accepted", "throttled", "early_retries")


class LimitsOptionError(ValueError):
    pass


class Bucket:
    """A token bucket: `size` tokens at most, `rate` tokens back per second; full when made."""

    def __init__(self, size, rate, now):
        self.size, self.rate, self.tokens, self.at = float(size), float(rate), float(size), now

    def level(self, now):
        if now > self.at:
            self.tokens = min(self.size, self.tokens + (now - self.at) * self.rate)
            self.at = now
        return self.tokens

    def take(self, now):
        """None when a token was taken, else the seconds until one is back."""
        if self.level(now) >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


def parse_limits(text):
    """{kind: (size, rate per second)} from `reads=250/25,writes=200/10,deletes=200/10` (kinds left out keep the
    documented sizes; `on` or `default`: all documented), and whether Compute's limits apply (`compute=off` turns
    them off); None for no limits (None, '', 0, off)."""
    if text in (None, "", 0, "0", "off"):
        return None
    limits, compute = dict(DOCUMENTED), True
    for part in [p.strip() for p in str(text).split(",") if p.strip()]:
        if part in ("on", "default"):
            continue
        kind, _, value = part.partition("=")
        kind = kind.strip().lower()
        if kind == "compute" and value in ("on", "off"):
            compute = value == "on"
            continue
        size, _, rate = value.partition("/")
        try:
            size, rate = float(size), float(rate)
        except ValueError:
            size = rate = 0
        if kind not in DOCUMENTED or size < 1 or rate <= 0:
            raise LimitsOptionError("armsim: --arm-limits {}: expected reads=SIZE/RATE,writes=SIZE/RATE,"
                                    "deletes=SIZE/RATE (tokens, tokens back per second; e.g. reads=250/25,"
                                    "writes=200/10,deletes=200/10), compute=on|off, or on".format(text))
        limits[kind] = (size, rate)
    return limits, compute


def kind_of(method):
    return "reads" if method in ("GET", "HEAD") else "deletes" if method == "DELETE" else "writes"


def compute_policy(method, path):
    """(policy, resource key or None) of a Compute request that a W15 policy covers, else None."""
    parts = path.lower().rstrip("/").split("/")
    if "microsoft.compute" not in parts:
        return None
    rest = parts[parts.index("microsoft.compute") + 1:]
    if len(rest) >= 4 and rest[0] == "locations" and rest[2] == "operations":
        return "GetOperation", rest[3]
    if not rest or rest[0] not in ("virtualmachines", "virtualmachinescalesets"):
        return None
    vm = rest[0] == "virtualmachines"
    if len(rest) == 1:
        return ("HighCostGetVM" if vm else "HighCostGetVMScaleSet", None) if method == "GET" else None
    key = "/".join(parts[:parts.index("microsoft.compute") + 3])
    action = rest[2] if len(rest) == 3 else None
    if len(rest) > 3 or (len(rest) == 3 and method != "POST"):
        return None  # instances, extensions, instance views: not modelled
    if vm:
        if method == "GET":
            return "LowCostGet", key
        if method == "PUT":
            return "PutVM", key
        if method == "DELETE" or action in ("deallocate", "simulateeviction"):
            return "DeleteVM", key
        return ("UpdateVM", key) if method == "PATCH" or action in VM_UPDATES else None
    if method == "GET":
        return "LowCostGetVMScaleSet", key
    if method == "DELETE" or action in ("deallocate", "poweroff"):
        return "DeleteVMScaleSet", key
    return "UpdateVMScaleSet", key


class Limits:
    """Every throttle the options ask for: the write budget (W13), ARM's buckets (W14), Compute's (W15); and the
    counters that tell whether clients waited for the Retry-After they were given, by kind of request."""

    def __init__(self, budget=None, buckets=None, compute=False, clock=time.time):
        self.budget, self.sizes, self.compute, self.clock = budget, buckets, compute, clock
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            now = self.clock()
            self.buckets = {kind: (Bucket(size, rate, now), Bucket(size * GLOBAL_FACTOR, rate * GLOBAL_FACTOR, now))
                            for kind, (size, rate) in (self.sizes or {}).items()}
            self.compute_buckets = {}  # (policy, resource key or "") -> Bucket
            self.retry_at = {}  # (method, path) of a refused request -> when its Retry-After elapses
            self.counters = {kind: dict.fromkeys(COUNTER_KEYS, 0) for kind in ("reads", "writes", "deletes")}
            self.counters["compute"] = {"throttled": 0}
        if self.budget:
            self.budget.reset()

    def check(self, req, sub, actor):
        """(refusal or None, headers for the answer). A refusal is (status, body, headers) and `req.throttled`
        names what refused it: budget, reads, writes, deletes or compute."""
        refusal = check(self.budget, req)
        if refusal:
            req.throttled = "budget"
            return refusal, {}
        if not self.sizes:
            return None, {}
        now, kind = self.clock(), kind_of(req.method)
        key = (req.method, req.path.lower())
        with self.lock:
            counters = self.counters[kind]
            if now < self.retry_at.get(key, 0.0):
                counters["early_retries"] += 1
            principal, overall = self.buckets[kind]
            wait = principal.take(now)
            if wait is None:
                wait = overall.take(now)
                if wait is not None:
                    principal.tokens += 1  # refused: the principal's token is not spent
            headers = {"x-ms-ratelimit-remaining-subscription-" + kind: int(principal.tokens),
                       "x-ms-ratelimit-remaining-subscription-global-" + kind: int(overall.tokens)}
            if wait is not None:
                return self._refuse(req, key, now, wait, kind, headers, ARM_MESSAGE.format(
                    word=KIND_WORD[kind], sub=sub, actor=actor, retry=_seconds(wait)),
                    "SubscriptionRequestsThrottled"), headers
            policy = compute_policy(req.method, req.path) if self.compute else None
            if policy:
                remaining, wait, target = self._compute(now, *policy)
                headers["x-ms-ratelimit-remaining-resource"] = remaining
                if wait is not None:
                    self.counters["compute"]["throttled"] += 1
                    counters["accepted"] += 1  # ARM took it (its token is spent); Compute refused it
                    return self._refuse(req, key, now, wait, "compute", headers, COMPUTE_MESSAGE,
                                        "OperationNotAllowed", target), headers
            counters["accepted"] += 1
            self.retry_at.pop(key, None)
            return None, headers

    def _compute(self, now, policy, resource):
        """(the x-ms-ratelimit-remaining-resource value, seconds to wait or None, the policy that refused)."""
        r_rate, r_size, s_rate, s_size = COMPUTE[policy]
        names = [(policy + "SubscriptionMaximum", "", s_size, s_rate)]
        if r_size and resource:
            names.append((policy + "Resource", resource, r_size, r_rate))
        buckets = []
        for name, res, size, per_minute in names:
            bucket = self.compute_buckets.get((name, res))
            if bucket is None:
                bucket = self.compute_buckets[(name, res)] = Bucket(size, per_minute / 60.0, now)
            buckets.append((name, bucket))
        wait, target = None, None
        for name, bucket in buckets:
            if bucket.level(now) < 1:
                wait, target = max(wait or 0, (1 - bucket.tokens) / bucket.rate), name
        if wait is None:
            for _, bucket in buckets:
                bucket.tokens -= 1
        value = ",".join("Microsoft.Compute/{};{}".format(name, int(bucket.tokens)) for name, bucket in buckets)
        return value, wait, target

    def _refuse(self, req, key, now, wait, kind, headers, message, code, target=None):
        retry = _seconds(wait)
        self.retry_at[key] = now + retry
        req.throttled = kind
        if kind != "compute":
            self.counters[kind]["throttled"] += 1
        error = {"code": code, "message": message}
        if target:
            error["details"] = [{"code": "TooManyRequests", "target": target,
                                 "message": "armsim rule W15: the {} bucket is empty".format(target)}]
        return 429, {"error": error}, dict(headers, **{"Retry-After": retry})

    def status(self):
        out = self.budget.status() if self.budget else {}
        if self.sizes:
            now = self.clock()
            with self.lock:
                out.update({kind: dict(self.counters[kind], size=self.sizes[kind][0], rate=self.sizes[kind][1],
                                       remaining=int(self.buckets[kind][0].level(now)))
                            for kind in self.sizes})
                out["compute"] = dict(self.counters["compute"], enabled=self.compute)
        return out

    def describe(self):
        parts = [self.budget.describe()] if self.budget else []
        if self.sizes:
            parts.append(", ".join("{} {:g} refilled at {:g}/s".format(k, *self.sizes[k]) for k in self.sizes))
            parts.append("Compute limits " + ("on" if self.compute else "off"))
        return "; ".join(parts)


def of(options, clock=time.time):
    """The throttles the options ask for, or None (no throttling)."""
    budget = budget_of(options, clock)
    parsed = parse_limits(getattr(options, "arm_limits", None))
    if budget is None and parsed is None:
        return None
    buckets, compute = parsed or (None, False)
    return Limits(budget, buckets, compute, clock)


def _seconds(wait):
    return max(1, int(math.ceil(wait - 1e-9)))
