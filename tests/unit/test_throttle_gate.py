# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The client's throttle gate: a 429 holds every request of its kind until the Retry-After has elapsed."""
import io
from types import SimpleNamespace

from azure.core.pipeline.policies import HTTPPolicy

from azext_vmsscrg._throttle import DEFAULT_RETRY_AFTER, REFILL, RESERVE, ThrottleGate


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Answers(HTTPPolicy):
    """The rest of the pipeline: answers from a list, and what it was sent, when."""

    def __init__(self, clock, statuses):
        super().__init__()
        self.clock, self.statuses, self.sent = clock, list(statuses), []

    def send(self, request):
        body = request.http_request.body
        self.sent.append((request.http_request.method, self.clock(), body.read() if body else None))
        status, retry_after = self.statuses.pop(0)
        headers = {'Retry-After': retry_after} if retry_after is not None else {}
        return SimpleNamespace(http_response=SimpleNamespace(status_code=status, headers=headers))


def request(method, body=None):
    return SimpleNamespace(http_request=SimpleNamespace(method=method, body=io.BytesIO(body) if body else None))


def gate(clock, statuses):
    policy = ThrottleGate(clock=clock, sleep=clock.sleep)
    policy.next = Answers(clock, statuses)
    return policy


def test_a_refused_write_is_sent_again_with_its_body_after_the_retry_after():
    clock = Clock()
    policy = gate(clock, [(429, '7'), (200, None)])
    response = policy.send(request('PATCH', b'{"a": 1}'))
    assert response.http_response.status_code == 200
    assert policy.next.sent == [('PATCH', 0.0, b'{"a": 1}'), ('PATCH', 7.0, b'{"a": 1}')]


def test_other_writes_wait_for_the_gate_and_reads_do_not():
    clock = Clock()
    policy = ThrottleGate(clock=clock, sleep=clock.sleep, max_wait=0)  # hands the 429 up, still closes the gate
    policy.next = Answers(clock, [(429, '5'), (200, None), (200, None)])
    assert policy.send(request('POST')).http_response.status_code == 429
    policy.send(request('GET'))
    policy.send(request('PUT'))
    assert [(method, at) for method, at, _ in policy.next.sent] == [('POST', 0.0), ('GET', 0.0), ('PUT', 5.0)]


def test_a_429_without_a_usable_retry_after_waits_the_default():
    clock = Clock()
    policy = gate(clock, [(429, 'Wed, 21 Oct 2015 07:28:00 GMT'), (200, None)])
    policy.send(request('DELETE'))
    assert policy.next.sent[1][1] == DEFAULT_RETRY_AFTER


def test_after_max_wait_the_429_goes_up_to_the_retry_policy():
    clock = Clock()
    policy = ThrottleGate(clock=clock, sleep=clock.sleep, max_wait=20)
    policy.next = Answers(clock, [(429, '15'), (429, '15'), (429, '15')])
    assert policy.send(request('PUT')).http_response.status_code == 429
    assert [at for _, at, _ in policy.next.sent] == [0.0, 15.0, 30.0]  # refused again after 30 s of waiting


class Arm(HTTPPolicy):
    """ARM's token buckets on the fake clock: `size` tokens, `rate` back per second, per kind; 429 when empty;
    every answer says how many tokens are left."""

    def __init__(self, clock, size=250.0, rate=25.0):
        super().__init__()
        self.clock, self.size, self.rate = clock, size, rate
        self.tokens = {kind: size for kind in ('reads', 'writes', 'deletes')}
        self.at, self.sent, self.refused = 0.0, [], []

    def send(self, request):
        now = self.clock()
        for kind in self.tokens:
            self.tokens[kind] = min(self.size, self.tokens[kind] + (now - self.at) * self.rate)
        self.at = now
        method = request.http_request.method
        kind = {'GET': 'reads', 'DELETE': 'deletes'}.get(method, 'writes')
        self.sent.append((method, now))
        if self.tokens[kind] < 1:
            self.refused.append((method, now))
            return SimpleNamespace(http_response=SimpleNamespace(status_code=429, headers={'Retry-After': '1'}))
        self.tokens[kind] -= 1
        headers = {'x-ms-ratelimit-remaining-subscription-' + kind: str(int(self.tokens[kind]))}
        return SimpleNamespace(http_response=SimpleNamespace(status_code=200, headers=headers))


def arm_gate(clock, **arm):
    policy = ThrottleGate(clock=clock, sleep=clock.sleep)
    policy.next = Arm(clock, **arm)
    return policy


def test_reads_slow_down_before_the_bucket_is_empty_and_none_is_refused():
    clock = Clock()
    policy = arm_gate(clock)
    for _ in range(1000):
        policy.send(request('GET'))
    arm = policy.next
    assert not arm.refused
    times = [at for _, at in arm.sent]
    # the bucket's 250 tokens less the reserve leave at once; then at most the refill rate (25 a second)
    assert times[250 - int(RESERVE['reads']) - 1] == 0.0
    assert times[-1] >= (1000 - 250) / REFILL['reads']
    # and not much slower: the paced requests keep the bucket near its reserve
    assert times[-1] <= (1000 - 250 + 2 * RESERVE['reads']) / REFILL['reads']


def test_writes_and_deletes_have_buckets_of_their_own():
    clock = Clock()
    policy = arm_gate(clock, size=200.0, rate=10.0)
    for _ in range(200):
        policy.send(request('PATCH'))
    start = clock()
    policy.send(request('DELETE'))  # the writes' bucket is low: a delete does not wait for it
    policy.send(request('GET'))
    assert clock() == start
    policy.send(request('POST'))  # a write does
    assert clock() > start
    assert not policy.next.refused


def test_a_429_on_deletes_holds_deletes_only():
    clock = Clock()
    policy = ThrottleGate(clock=clock, sleep=clock.sleep, max_wait=0)
    policy.next = Answers(clock, [(429, '5'), (200, None), (200, None), (200, None)])
    assert policy.send(request('DELETE')).http_response.status_code == 429
    policy.send(request('PUT'))
    policy.send(request('GET'))
    policy.send(request('DELETE'))
    assert [(method, at) for method, at, _ in policy.next.sent] == [
        ('DELETE', 0.0), ('PUT', 0.0), ('GET', 0.0), ('DELETE', 5.0)]


def test_the_global_bucket_counts_when_it_is_the_lower():
    clock = Clock()
    policy = ThrottleGate(clock=clock, sleep=clock.sleep)
    answers = [{'x-ms-ratelimit-remaining-subscription-reads': '240',
                'x-ms-ratelimit-remaining-subscription-global-reads': '3'}, {}, {}]

    class Global(HTTPPolicy):
        def send(self, request):
            return SimpleNamespace(http_response=SimpleNamespace(status_code=200, headers=answers.pop(0)))
    policy.next = Global()
    policy.send(request('GET'))
    policy.send(request('GET'))
    first = clock()
    policy.send(request('GET'))
    assert clock() - first >= 1 / REFILL['reads']  # paced: 3 tokens left are below the reserve
