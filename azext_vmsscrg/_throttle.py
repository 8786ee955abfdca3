# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Azure's throttling, honoured by every thread of a command at once.

ARM counts writes (and, separately, reads) per subscription; past the limit it answers 429 with Retry-After.
azure-core's retry policy waits that long before sending the refused request again, but only that request
waits: with a few hundred operations in flight, the other threads keep sending into the limit, each gets a
429 in turn, and a thread that is refused ten times gives up. This policy, placed after the retry policy, keeps
one gate per kind of request for the whole client: a 429 closes it until its Retry-After has elapsed, no
request of that kind leaves while it is closed, and the refused request is sent again once it opens. The
retry policy never sees a 429 unless a request has been refused for MAX_WAIT seconds in all.
"""
import threading
import time

from knack.log import get_logger
from azure.core.pipeline.policies import HTTPPolicy

logger = get_logger(__name__)

WRITES = ('PUT', 'PATCH', 'POST', 'DELETE')
DEFAULT_RETRY_AFTER = 10.0  # a 429 without a usable Retry-After
MAX_WAIT = 1800.0  # seconds one request may spend refused before the 429 goes up to the retry policy


class ThrottleGate(HTTPPolicy):  # pylint: disable=too-few-public-methods
    def __init__(self, clock=time.monotonic, sleep=time.sleep, max_wait=MAX_WAIT):
        super().__init__()
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._lock = threading.Lock()
        self._open_at = {'write': 0.0, 'read': 0.0}

    def send(self, request):
        kind = 'write' if request.http_request.method.upper() in WRITES else 'read'
        body = request.http_request.body
        position = body.tell() if hasattr(body, 'seek') and hasattr(body, 'tell') else None
        refused_for = 0.0
        while True:
            self._wait(kind)
            response = self.next.send(request)
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
        while True:
            with self._lock:
                left = self._open_at[kind] - self._clock()
            if left <= 0:
                return
            self._sleep(left)

    def _close(self, kind, delay):
        now = self._clock()
        with self._lock:
            if self._open_at[kind] <= now:
                logger.warning('Azure is throttling %ss: sending no more for %.0f s (Retry-After).', kind, delay)
            self._open_at[kind] = max(self._open_at[kind], now + delay)


def _retry_after(value):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):  # missing, or an HTTP date
        return DEFAULT_RETRY_AFTER
