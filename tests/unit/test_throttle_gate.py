# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The client's throttle gate: a 429 holds every request of its kind until the Retry-After has elapsed."""
import io
from types import SimpleNamespace

from azure.core.pipeline.policies import HTTPPolicy

from azext_vmsscrg._throttle import DEFAULT_RETRY_AFTER, ThrottleGate


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
