# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the executor retries, and how a run waits for an operation already running on the scale set."""
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from azext_vmsscrg import execute
from azext_vmsscrg.inspect import wait_until_settled
from azext_vmsscrg.snapshot import Instance, held_group

STEP = SimpleNamespace(action='deallocate', targets=('0',))


def http_error(status, code='Conflict', message='busy'):
    response = SimpleNamespace(status_code=status, reason=None, headers={}, text=lambda: '',
                               content_type='application/json', request=None)
    error = HttpResponseError(message='{}: {}'.format(code, message), response=response)
    error.error = SimpleNamespace(code=code, message=message)
    return error


def executor():
    sleeps = []
    ex = execute.Executor.__new__(execute.Executor)
    ex.sleep = sleeps.append
    return ex, sleeps


@pytest.mark.parametrize('error, transient', [
    (http_error(200, 'InternalExecutionError'), True),  # a long-running operation that ended Failed
    (http_error(409), True), (http_error(412, 'PreconditionFailed'), True), (http_error(429), True),
    (http_error(500), True), (http_error(503), True), (ServiceRequestError('refused'), True),
    (ServiceResponseError('connection reset'), True),
    (http_error(400, 'InvalidParameter'), False), (http_error(404, 'NotFound'), False),
    (http_error(403, 'AuthorizationFailed'), False)])
def test_what_is_worth_another_attempt(error, transient):
    assert execute._transient(error) is transient


def test_transient_failures_are_retried_with_growing_delays():
    ex, sleeps = executor()
    answers = [http_error(200, 'OperationPreempted'), ServiceResponseError('reset'), 'done']

    def operation():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert ex._retry(STEP, operation) == 'done' and sleeps == [2.0, 4.0]


def test_a_refusal_stops_at_once_and_exhaustion_names_the_attempts():
    ex, sleeps = executor()

    def refused():
        raise http_error(400, 'InvalidParameter', 'no reservation for the size')
    with pytest.raises(execute.StepFailed, match='InvalidParameter: no reservation') as err:
        ex._retry(STEP, refused)
    assert sleeps == [] and err.value.step is STEP

    def failing():
        raise http_error(200, 'InternalExecutionError', 'retry later')
    with pytest.raises(execute.StepFailed, match=r'retry later \(after 4 attempts\)'):
        ex._retry(STEP, failing)
    assert sleeps == [2.0, 4.0, 8.0]


def snapshot(busy):
    return SimpleNamespace(busy=busy, scale_set=SimpleNamespace(name='ss'))


def test_waits_until_the_running_operation_is_over():
    reads = [snapshot("is in provisioning state 'Updating'"), snapshot('has members changing power state (ss_0)'),
             snapshot(None)]
    clock = iter(range(100))
    sleeps = []
    last = wait_until_settled(lambda: reads.pop(0), 60, sleep=sleeps.append, clock=lambda: next(clock))
    assert last.busy is None and reads == [] and len(sleeps) == 2


def test_gives_up_after_the_timeout_and_returns_the_busy_snapshot():
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds
    last = wait_until_settled(lambda: snapshot("is in provisioning state 'Updating'"), 12, sleep=sleep,
                              clock=lambda: now[0])
    assert last.busy and sum(sleeps) == 12
    assert wait_until_settled(lambda: snapshot('busy'), 0, sleep=sleeps.append).busy == 'busy'


def test_held_group_ignores_members_on_no_group():
    def member(group):
        return Instance(id='x', name='x', instance_id=None, power_state='running', latest_model_applied=None,
                        group_id=group)
    assert held_group([member(None), member('/G/a'), member('/g/A')]).lower() == '/g/a'
    assert held_group([member(None)]) is None and held_group([member('/g/a'), member('/g/b')]) is None
