# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Azure's throttling, honoured by every thread of a command at once, before it happens where it can.

ARM counts requests per subscription in token buckets, one per kind: reads (GET, HEAD), writes (PUT, PATCH, POST)
and deletes (DELETE). Every answer says how many tokens are left (x-ms-ratelimit-remaining-subscription-reads,
-writes, -deletes, and the -global- variants); past zero it answers 429 with Retry-After. This policy, placed
after the retry policy, keeps one gate per kind for every client of the command:
- pacing: once the tokens left (as last reported, less what was sent since, plus the documented refill) fall
  below a reserve, requests of that kind leave one at a time at the refill rate, more slowly the lower the bucket,
  so that the bucket never empties ("Understand how Azure Resource Manager throttles requests", learn.microsoft.com);
- a 429 closes the gate of its kind until its Retry-After has elapsed: no request of that kind leaves while it is
  closed, and the refused request is sent again once it opens. The retry policy never sees a 429 unless a request
  has been refused for MAX_WAIT seconds in all.
"""
import threading
import time

from knack.log import get_logger
from azure.core.pipeline.policies import HTTPPolicy

logger = get_logger(__name__)

KINDS = {'GET': 'reads', 'HEAD': 'reads', 'DELETE': 'deletes'}  # any other method: writes
REFILL = {'reads': 25.0, 'writes': 10.0, 'deletes': 10.0}  # tokens back per second, as documented
RESERVE = {'reads': 50.0, 'writes': 40.0, 'deletes': 40.0}  # tokens left below which requests are paced
HEADER = 'x-ms-ratelimit-remaining-subscription-'
DEFAULT_RETRY_AFTER = 10.0  # a 429 without a usable Retry-After
MAX_WAIT = 1800.0  # seconds one request may spend refused before the 429 goes up to the retry policy


class _Bucket:  # pylint: disable=too-few-public-methods
    """What the client knows of one of ARM's buckets: tokens left, when the next request of the kind may leave."""

    def __init__(self, rate, reserve):
        self.rate, self.reserve = rate, reserve
        self.tokens = None  # not reported yet
        self.most = 0.0  # the most tokens ever reported: the bucket's size, about
        self.at = 0.0
        self.next_at = 0.0  # pacing: the next request's slot
        self.open_at = 0.0  # a 429's Retry-After

    def level(self, now):
        if self.tokens is not None and now > self.at:
            self.tokens = min(self.most, self.tokens + (now - self.at) * self.rate)
            self.at = now
        return self.tokens

    def slot(self, now):
        """When a request may leave, taking its place: at once while tokens are above the reserve; else paced."""
        at = max(now, self.open_at)
        level = self.level(now)
        if level is not None and level < self.reserve:
            at = max(at, self.next_at)
            self.next_at = at + (1.0 + (self.reserve - max(level, 0.0)) / self.reserve) / self.rate
        if level is not None:
            self.tokens = level - 1
        return at

    def report(self, now, left):
        self.level(now)
        self.most = max(self.most, left)
        self.tokens = left if self.tokens is None else min(self.tokens, left)
        self.at = now


class Gates:  # pylint: disable=too-few-public-methods
    """The buckets of one subscription as the client sees them, shared by every client of a command (a pipeline
    policy belongs to one pipeline)."""

    def __init__(self, refill=None, reserve=None):
        refill, reserve = dict(REFILL, **(refill or {})), dict(RESERVE, **(reserve or {}))
        self.buckets = {kind: _Bucket(refill[kind], reserve[kind]) for kind in REFILL}
        self.lock = threading.Lock()


class ThrottleGate(HTTPPolicy):  # pylint: disable=too-few-public-methods
    def __init__(self, clock=time.monotonic, sleep=time.sleep, max_wait=MAX_WAIT, gates=None):
        super().__init__()
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        gates = gates or Gates()
        self._lock = gates.lock
        self._buckets = gates.buckets

    def send(self, request):
        kind = KINDS.get(request.http_request.method.upper(), 'writes')
        body = request.http_request.body
        position = body.tell() if hasattr(body, 'seek') and hasattr(body, 'tell') else None
        refused_for = 0.0
        while True:
            self._wait(kind)
            response = self.next.send(request)
            self._report(response.http_response.headers)
            if response.http_response.status_code != 429:
                return response
            delay = _retry_after(response.http_response.headers.get('Retry-After'))
            self._close(kind, delay)  # for every request of this kind, this one included
            if refused_for >= self._max_wait:
                return response
            refused_for += delay
            if position is not None:
                body.seek(position)

    def _wait(self, kind):
        bucket = self._buckets[kind]
        with self._lock:
            at = bucket.slot(self._clock())
        while True:
            with self._lock:
                left = max(at, bucket.open_at) - self._clock()
            if left <= 0:
                return
            self._sleep(left)

    def _report(self, headers):
        now = self._clock()
        with self._lock:
            for kind, bucket in self._buckets.items():
                values = [_number(headers.get(HEADER + kind)), _number(headers.get(f'{HEADER}global-{kind}'))]
                values = [v for v in values if v is not None]
                if values:
                    bucket.report(now, min(values))

    def _close(self, kind, delay):
        now = self._clock()
        with self._lock:
            bucket = self._buckets[kind]
            if bucket.open_at <= now:
                logger.warning('Azure is throttling %s: sending no more for %.0f s (Retry-After).', kind, delay)
            bucket.open_at = max(bucket.open_at, now + delay)


def _number(value):
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(value):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):  # missing, or an HTTP date
        return DEFAULT_RETRY_AFTER
