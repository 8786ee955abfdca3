# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the executor retries (failures.py decides), how a batch stops, and how a run waits for an operation
already running on the scale set."""
import threading
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from azext_vmsscrg import execute, failures
from azext_vmsscrg.survey import wait_until_settled
from azext_vmsscrg.snapshot import Instance, ScaleSet, Snapshot, held_group

STEP = SimpleNamespace(action='deallocate', targets=('0',))


def http_error(status, code='Conflict', message='busy', retry_after=None):
    headers = {'Retry-After': str(retry_after)} if retry_after is not None else {}
    response = SimpleNamespace(status_code=status, reason=None, headers=headers, text=lambda: '',
                               content_type='application/json', request=None)
    error = HttpResponseError(message='{}: {}'.format(code, message), response=response)
    error.error = SimpleNamespace(code=code, message=message)
    return error


def executor(**kw):
    sleeps = []
    snapshot = Snapshot(ScaleSet(id='/s/ss', name='ss', resource_group='rg', orchestration_mode='Uniform',
                                 upgrade_mode='Manual', zones=(), sku_name='x', capacity=1, has_vm_profile=True,
                                 model_group_id=None), (), None)
    return execute.Executor(None, snapshot, sleep=sleeps.append, **kw), sleeps


@pytest.mark.parametrize('error, kind', [
    (http_error(200, 'InternalExecutionError'), failures.TRANSIENT),  # a long-running operation that ended Failed
    (http_error(200, 'OperationPreempted'), failures.TRANSIENT),
    (http_error(409), failures.TRANSIENT), (http_error(412, 'PreconditionFailed'), failures.TRANSIENT),
    (http_error(429, 'TooManyRequests'), failures.TRANSIENT), (http_error(500, 'Whatever'), failures.TRANSIENT),
    (http_error(503, 'ServiceUnavailable'), failures.TRANSIENT), (ServiceRequestError('refused'), failures.TRANSIENT),
    (ServiceResponseError('connection reset'), failures.TRANSIENT),
    # the same status, another meaning: the code decides
    (http_error(409, 'OperationNotAllowed', "Operation 'start' is not allowed on 'x' since another operation is "
                "in progress on it."), failures.TRANSIENT),
    (http_error(409, 'OperationNotAllowed', 'vm1 is allocated and not in an availability zone'), failures.PERMANENT),
    (http_error(200, 'AllocationFailed'), failures.CAPACITY), (http_error(200, 'ZonalAllocationFailed'),
                                                               failures.CAPACITY),
    (http_error(409, 'OverconstrainedAllocationRequest'), failures.CAPACITY),
    (http_error(400, 'InvalidParameter'), failures.PERMANENT), (http_error(404, 'NotFound'), failures.PERMANENT),
    (http_error(403, 'AuthorizationFailed'), failures.PERMANENT),
    (http_error(403, 'RequestDisallowedByPolicy'), failures.PERMANENT),
    (http_error(400, 'SomethingNew'), failures.PERMANENT), (http_error(409, 'SomethingNew'), failures.TRANSIENT)])
def test_the_error_code_decides_before_the_status(error, kind):
    assert failures.classify(error) == kind


def test_transient_failures_are_retried_with_growing_delays_or_retry_after():
    ex, sleeps = executor()
    answers = [http_error(200, 'OperationPreempted'), http_error(429, 'TooManyRequests', retry_after=17),
               http_error(503, 'ServiceUnavailable'), 'done']

    def operation():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert ex._retry(STEP, operation) == 'done' and sleeps == [2.0, 17.0, 8.0]


def test_a_lost_answer_is_read_back_before_sending_again():
    ex, sleeps = executor()
    sent = []

    def operation():
        sent.append(1)
        raise ServiceResponseError('connection closed after the request was handled')
    assert ex._retry(STEP, operation, applied=lambda: 'it took effect') == 'it took effect'
    assert len(sent) == 1


def test_a_refusal_stops_at_once_and_exhaustion_names_the_attempts():
    ex, sleeps = executor()

    def refused():
        raise http_error(400, 'InvalidParameter', 'no reservation for the size')
    with pytest.raises(execute.StepFailed, match='InvalidParameter: no reservation') as err:
        ex._retry(STEP, refused)
    assert sleeps == [] and err.value.step is STEP and err.value.kind == failures.PERMANENT

    def failing():
        raise http_error(200, 'InternalExecutionError', 'retry later')
    with pytest.raises(execute.StepFailed, match=r'retry later \(after 4 attempts\)'):
        ex._retry(STEP, failing)
    assert sleeps == [2.0, 4.0, 8.0]


def test_the_first_permanent_failure_cancels_the_queued_work_of_a_batch():
    ex, _ = executor(concurrency=2)
    started, gate = [], threading.Event()

    def one(key):
        started.append(key)
        if key == 'm0':
            raise execute.StepFailed(STEP, 'refused')
        gate.wait(5)  # m1 is an operation already accepted: it finishes
    step = SimpleNamespace(action='setVmGroup', targets=tuple('m{}'.format(n) for n in range(50)))
    threading.Timer(0.2, gate.set).start()
    with pytest.raises(execute.StepFailed, match='refused'):
        ex._each(step, one)
    assert started[0] == 'm0' and len(started) <= 2 and ex.stopping.is_set()  # nothing queued started


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


def test_a_model_change_refused_because_an_instance_was_added_is_worth_a_new_plan():
    refusal = http_error(409, 'OperationNotAllowed', 'The model cannot change while instances are allocated.')

    def put(*args, **kwargs):
        raise refusal
    vm = SimpleNamespace(id='/s/ss/virtualMachines/1', name='ss_1', instance_id='1', latest_model_applied=True,
                         instance_view=None)
    client = SimpleNamespace(
        virtual_machine_scale_sets=SimpleNamespace(
            get=lambda rg, name: SimpleNamespace(etag='1', serialize=lambda keep_readonly: {}),
            begin_create_or_update=put),
        virtual_machine_scale_set_vms=SimpleNamespace(list=lambda *a, **k: [vm]))
    ex, _ = executor()
    ex.client = client
    step = SimpleNamespace(action='setModelGroup', targets=('/s/ss',), group='/g')
    with pytest.raises(execute.StepFailed, match='ss_1|1 were added') as err:
        ex._setModelGroup(step)
    assert err.value.kind == failures.TRANSIENT
    ex.members = {'1': vm}  # nothing added: the refusal stands
    with pytest.raises(execute.StepFailed) as err:
        ex._setModelGroup(step)
    assert err.value.kind == failures.PERMANENT


def test_a_power_step_left_with_no_member_sends_nothing():
    """Members that started meanwhile leave a compensation step empty: an empty instanceIds list would start (or
    deallocate) the whole scale set, instances meant to stay deallocated too. (The client is None: any call fails.)"""
    ex, _ = executor()
    for operation in ('begin_start', 'begin_deallocate'):
        assert ex._power(execute.p.Step(execute.p.START, (), 'nothing left'), operation, lambda power: True) is None


class _Running(execute.Accepted):
    """An accepted operation whose status reads 'running' the first `running` times, then 'succeeded'."""

    def __init__(self, running):  # pylint: disable=super-init-not-called
        self.running, self.reads = running, 0

    def check(self):
        self.reads += 1
        return self.reads > self.running


def test_a_member_that_looks_settled_while_its_operation_runs_is_read_again_with_backoff():
    # a start still running when the member first looks settled (deallocated, Succeeded), which then fails and
    # leaves it deallocated: its status is read again 2 s later, not only after the watch's 600 s bound
    step = execute.p.Step(execute.p.START, ('a',), 'start')
    batch = execute._Batch(step, lambda m: m.power_state == 'running', None)  # pylint: disable=protected-access
    batch.ops = {'a': _Running(running=1)}
    down = SimpleNamespace(power_state='deallocated', provisioning_state='Succeeded')
    assert not batch.over('a', down, False, 0.0)  # read: still running
    assert not batch.over('a', down, False, 1.0) and batch.ops['a'].reads == 1  # not read again yet
    assert batch.over('a', down, False, 2.0) and batch.ops['a'].reads == 2  # read again: it ended, member down
    assert [str(f) for f in batch.failures] and 'did not reach the expected state' in str(batch.failures[0])


def test_a_member_still_deallocating_is_not_done():
    # Azure counts a deallocating VM as allocated: changing its group then is refused (seen with spread operation
    # times, bench); the watch waits until the power state stops changing
    step = execute.p.Step(execute.p.DEALLOCATE, ('a',), 'deallocate')
    batch = execute._Batch(step, lambda m: m.power_state in execute.p.NOT_ALLOCATED,  # pylint: disable=protected-access
                           None)
    batch.ops = {'a': _Running(running=5)}
    going = SimpleNamespace(power_state='deallocating', provisioning_state='Succeeded')
    assert not batch.over('a', going, False, 0.0) and batch.ops['a'].reads == 0
    gone = SimpleNamespace(power_state='deallocated', provisioning_state='Succeeded')
    assert batch.over('a', gone, False, 1.0) and batch.finished == {'a'}
