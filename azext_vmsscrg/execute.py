# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Run a plan's steps: long-running operations, bounded concurrency, retries, progress, read-back, compensation.

Each write is checked by reading back what it should have changed (through the survey, the one reader). A
transient failure is retried (failures.py decides which are); anything else, or an interruption, stops new work
at once: queued operations are cancelled, those already accepted are waited for, and `compensate` starts again
the members this run took down that were running.
"""
import io
import json
import math
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from knack.log import get_logger  # before azure.*: azdev's pylint counts the azure namespace as first party
from azure.core.exceptions import AzureError

from . import plan as p
from ._lro import polling
from ._progress import Progress
from ._validators import MAX_CONCURRENCY
from .failures import PERMANENT, TRANSIENT, answer_lost, classify, describe, retry_after
from .snapshot import CHANGING_POWER, same_id
from .survey import read_members, read_power, read_rolling_upgrade

logger = get_logger(__name__)

DEFAULT_CONCURRENCY = None  # a step's batch at once, up to MAX_CONCURRENCY
ATTEMPTS = 4  # for a transient failure of one operation (throttling and 5xx are retried by the SDK first)
FIRST_DELAY = 2.0  # seconds before the second attempt; doubled each time, or Retry-After when longer
POLL_FIRST, POLL_MAX = 2.0, 30.0  # waiting for an upgrade policy: backoff between reads
BATCH_SECONDS = 900  # what one batch of an Automatic or Rolling upgrade may take, pauses apart
SETTLE_SECONDS = 600  # after an interruption, how long to wait for operations Azure already accepted


class StepFailed(Exception):
    def __init__(self, step, message, kind=PERMANENT):
        super().__init__(message)
        self.step = step
        self.kind = kind


class Cancelled(Exception):
    """New work refused: the run is stopping."""


class Executor:  # pylint: disable=too-many-instance-attributes  # a run's target, options and what it did
    """Runs the steps of a plan against one scale set. `snapshot` resolves step targets to resources."""

    def __init__(self, client, snapshot, *, concurrency=DEFAULT_CONCURRENCY, progress=None, sleep=None,
                 clock=time.monotonic):
        self.client = client
        self.snapshot = snapshot
        self.scale_set = snapshot.scale_set
        self.rg = self.scale_set.resource_group
        self.name = self.scale_set.name
        self.flexible = self.scale_set.orchestration_mode == p.FLEXIBLE
        self.members = {p.member_key(i): i for i in snapshot.instances}
        self.concurrency = max(1, concurrency) if concurrency else MAX_CONCURRENCY
        self.progress = progress or Progress(None)
        self.clock = clock
        self.stopping = threading.Event()
        self.compensating = False
        self.taken_down = set()  # members this run sent a deallocation for
        self._sleep = sleep

    def run(self, steps, on_deallocate=None):
        """Run `steps` in order; returns one result per step. `on_deallocate(keys)` runs before each deallocation
        is sent (the journal records the members there)."""
        results = []
        self.progress.begin(len(steps))
        try:
            for n, step in enumerate(steps, 1):
                if step.action == p.DEALLOCATE and on_deallocate:
                    on_deallocate(set(self.taken_down) | set(step.targets))
                self.progress.step(n, p.describe(step))
                started = time.time()
                try:
                    getattr(self, '_' + step.action)(step)
                except AzureError as ex:  # a read-back that failed after the SDK's own retries
                    raise StepFailed(step, describe(ex), classify(ex)) from ex
                results.append(dict(step.to_dict(), outcome='succeeded', seconds=round(time.time() - started, 1)))
        except BaseException:
            self.stopping.set()
            self.progress.end(ok=False)
            raise
        self.progress.end(ok=True)
        return results

    # --- compensation ------------------------------------------------------------------------------
    def compensate(self, restore):
        """Start again every member of `restore` (those running before) that this run took down; wait first for
        the operations Azure already accepted. Returns {key: power state} of every member, read back."""
        self.compensating = True
        self.stopping.clear()
        states = self._settle()
        down = tuple(k for k in restore if k in self.taken_down and k in states
                     and states[k].power_state not in p.RESTARTED)
        if down:
            logger.warning('Starting again %d member(s) this run deallocated: %s', len(down), p.listed(down))
            try:
                self._start(p.Step(p.START, down, 'start again what this run deallocated'))
            except StepFailed as ex:
                logger.error('Could not start every member again: %s', ex)
            states = read_members(self.client, self.scale_set)
        return {k: m.power_state for k, m in states.items()}

    def _settle(self):
        """Read the members until none changes power state (an accepted operation still running), bounded."""
        deadline = self.clock() + SETTLE_SECONDS
        delay = POLL_FIRST
        while True:
            states = read_members(self.client, self.scale_set)
            changing = [k for k, m in states.items() if m.power_state in CHANGING_POWER]
            if not changing or self.clock() > deadline:
                return states
            self._pause(delay)
            delay = min(delay * 2, POLL_MAX)

    # --- steps -----------------------------------------------------------------------------------
    def _setReservationCapacity(self, step):
        for reservation_id in step.targets:
            self._set_capacity(step, reservation_id)

    def _set_capacity(self, step, reservation_id):
        rg, group, name = _parse_reservation(reservation_id)
        body = _bytes({'sku': {'capacity': step.capacity}})
        ops = self.client.capacity_reservations

        def applied():
            now = ops.get(rg, group, name)
            return now if now.sku.capacity == step.capacity else None
        result = self._retry(step, lambda: ops.begin_update(rg, group, name, body(), polling=polling()).result(),
                             applied)
        if result.sku.capacity != step.capacity:
            raise StepFailed(step, 'Reservation {} reports capacity {} after it was set to {}.'.format(
                name, result.sku.capacity, step.capacity))

    def _setModelGroup(self, step):
        ops = self.client.virtual_machine_scale_sets

        def put():
            current = ops.get(self.rg, self.name)
            body = current.serialize(keep_readonly=False)
            body.setdefault('properties', {}).setdefault('virtualMachineProfile', {})['capacityReservation'] = {
                'capacityReservationGroup': {'id': step.group}}
            return ops.begin_create_or_update(self.rg, self.name, _bytes(body)(), if_match=current.etag,
                                              polling=polling()).result()

        def applied():
            current = ops.get(self.rg, self.name)
            return current if same_id(_model_group(current), step.group) else None

        try:
            now = _model_group(self._retry(step, put, applied))
        except StepFailed as ex:
            added = sorted(set(read_members(self.client, self.scale_set)) - set(self.members))
            if ex.kind == PERMANENT and added:  # autoscale (or someone) added an allocated instance since the plan
                raise StepFailed(step, '{} Instance(s) {} were added to the scale set since the plan was made; '
                                       'a new plan includes them.'.format(ex, p.listed(added)), TRANSIENT) from ex
            raise
        if not same_id(now, step.group):
            raise StepFailed(step, "The scale set's model reports group {} after it was set to {}.".format(
                now, step.group))

    def _setVmGroup(self, step):
        def one(key):
            vm = self.members[key]
            rg = _parse(vm.id)['resource_group']
            body = _bytes({'properties': {'capacityReservation': {'capacityReservationGroup': {'id': step.group}}}})

            def applied():
                current = self.client.virtual_machines.get(rg, vm.name)
                return current if same_id(_vm_group(current), step.group) else None
            result = self._retry(step, lambda: self.client.virtual_machines.begin_update(
                rg, vm.name, body(), polling=polling()).result(), applied)
            if not same_id(_vm_group(result), step.group):
                raise StepFailed(step, 'VM {} reports group {} after it was set to {}.'.format(
                    vm.name, _vm_group(result), step.group))
        self._each(step, one)

    def _deallocate(self, step):
        self._power(step, 'begin_deallocate', lambda power: power in p.NOT_ALLOCATED)

    def _start(self, step):
        self._power(step, 'begin_start', lambda power: power == 'running')

    def _power(self, step, operation, done):
        down = operation == 'begin_deallocate'
        if self.flexible:
            wrong = []

            def one(key):
                vm = self.members[key]
                rg = _parse(vm.id)['resource_group']
                if down:
                    self.taken_down.add(key)

                def applied():
                    return True if done(read_power(self.client, vm.id)) else None
                self._retry(step, lambda: getattr(self.client.virtual_machines, operation)(
                    rg, vm.name, polling=polling(action=True)).result(), applied)
                # read back this member alone, as soon as it is done
                if not done(read_power(self.client, vm.id)):
                    wrong.append(key)
            self._each(step, one)
        else:
            ids = {'instanceIds': list(step.targets)}
            if down:
                self.taken_down.update(step.targets)

            def applied():
                return True if not self._not_yet(step, done) else None
            self._retry(step, lambda: getattr(self.client.virtual_machine_scale_sets, operation)(
                self.rg, self.name, vm_instance_i_ds=_bytes(ids)(), polling=polling(action=True)).result(), applied)
            wrong = self._not_yet(step, done)
        if wrong:
            raise StepFailed(step, '{} member(s) did not reach the expected power state: {}.'.format(
                len(wrong), p.listed(sorted(wrong))))

    def _not_yet(self, step, done):
        states = read_members(self.client, self.scale_set)
        return [k for k in step.targets if k in states and not done(states[k].power_state)]

    def _upgradeInstances(self, step):
        body = {'instanceIds': list(step.targets)}

        def applied():
            return True if not self._stale(step.targets) else None
        self._retry(step, lambda: self.client.virtual_machine_scale_sets.begin_update_instances(
            self.rg, self.name, _bytes(body)(), polling=polling(action=True)).result(), applied)
        stale = self._stale(step.targets)
        if stale:
            raise StepFailed(step, '{} instance(s) are not on the latest model after the upgrade: {}.'.format(
                len(stale), p.listed(stale)))

    def _waitForUpgrade(self, step):
        """Automatic and Rolling policies: Azure upgrades the instances. Rolling: follow the rolling upgrade's
        status (not the instances) and stop at once when it ends Faulted or Cancelled. Bounded by what the
        policy implies: its number of batches, each with its pause."""
        bound = self._upgrade_bound()
        deadline = self.clock() + bound
        rolling = self.scale_set.upgrade_mode == 'Rolling'
        delay = POLL_FIRST
        while True:
            self._check_stopping()
            status = read_rolling_upgrade(self.client, self.scale_set) if rolling else None
            code = status[0] if status else None
            if code != 'RollingForward':
                stale = self._stale(step.targets)
                if not stale:
                    return
                if code in ('Faulted', 'Cancelled'):
                    raise StepFailed(step, 'The rolling upgrade ended {}{}; {} instance(s) are not on the new model: '
                                           '{}.'.format(code, ': ' + status[2] if status[2] else '', len(stale),
                                                        p.listed(stale)))
                self.progress.advance(len(step.targets) - len(stale), len(step.targets))
            if self.clock() > deadline:
                raise StepFailed(step, 'The {} upgrade policy has not brought every instance to the new model within '
                                       '{:.0f} seconds, what its batches and pauses allow.'.format(
                                           self.scale_set.upgrade_mode, bound), TRANSIENT)
            self._pause(delay)
            delay = min(delay * 2, POLL_MAX)

    def _upgrade_bound(self):
        if self.scale_set.upgrade_mode != 'Rolling':
            return BATCH_SECONDS
        batches = math.ceil(100.0 / max(1, self.scale_set.max_batch_percent or 20))
        return batches * BATCH_SECONDS + (batches - 1) * self.scale_set.pause_seconds

    def _stale(self, keys):
        states = read_members(self.client, self.scale_set)
        return [k for k in keys if k in states and states[k].latest_model_applied is False]

    # --- mechanics -------------------------------------------------------------------------------
    def _each(self, step, fn):
        """Run `fn(key)` for every target with bounded concurrency. The first failure (or an interruption)
        cancels what is queued; what is running finishes; then the first permanent failure is raised."""
        done = [0]
        lock = threading.Lock()

        def counted(key):
            self._check_stopping()
            try:
                fn(key)
            except Exception:
                self.stopping.set()  # before this worker takes the next queued member
                raise
            with lock:
                done[0] += 1
                self.progress.advance(done[0], len(step.targets))

        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(step.targets)))
        futures = []
        try:
            futures = [pool.submit(counted, key) for key in step.targets]
            wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:
            self.stopping.set()
            raise
        finally:
            if any(f.done() and not f.cancelled() and f.exception() for f in futures):
                self.stopping.set()
            pool.shutdown(wait=True, cancel_futures=True)
        errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
        failures = [e for e in errors if not isinstance(e, Cancelled)]
        if failures:
            for other in failures[1:]:
                logger.warning('Also failed: %s', other)
            first = next((e for e in failures if getattr(e, 'kind', None) != TRANSIENT), failures[0])
            raise first

    def _check_stopping(self):
        if self.stopping.is_set() and not self.compensating:
            raise Cancelled()

    def _pause(self, seconds):
        if self._sleep is not None:
            self._sleep(seconds)
        elif self.compensating:
            time.sleep(seconds)
        else:
            self.stopping.wait(seconds)

    def _retry(self, step, fn, applied=None):
        """Run one operation, again after a transient failure (failures.py), after the longer of a doubling
        delay and Azure's Retry-After. When the answer was lost, `applied()` reads the resource first and
        returns what the operation would have (not None) when it took effect: it is not sent again."""
        delay = FIRST_DELAY
        for attempt in range(1, ATTEMPTS + 1):
            self._check_stopping()
            try:
                return fn()
            except AzureError as ex:
                kind = classify(ex)
                if kind != TRANSIENT:
                    raise StepFailed(step, describe(ex), kind) from ex
                if attempt == ATTEMPTS:
                    raise StepFailed(step, '{} (after {} attempts)'.format(describe(ex), ATTEMPTS), kind) from ex
                wait_for = max(delay, retry_after(ex) or 0.0)
                logger.warning('%s failed (%s); retrying in %.0f s', step.action, describe(ex), wait_for)
                self._pause(wait_for)
                if answer_lost(ex) and applied is not None:
                    self._check_stopping()
                    try:
                        result = applied()
                    except AzureError:
                        result = None
                    if result is not None:
                        return result
            delay *= 2
        return None


def _bytes(body):
    """A factory of request bodies sent as JSON exactly as written: the SDK's models drop an explicit null."""
    data = json.dumps(body).encode()
    return lambda: io.BytesIO(data)


def _model_group(vmss):
    profile = vmss.virtual_machine_profile
    return profile.capacity_reservation.capacity_reservation_group.id if (
        profile and profile.capacity_reservation and profile.capacity_reservation.capacity_reservation_group) \
        else None


def _vm_group(vm):
    return vm.capacity_reservation.capacity_reservation_group.id if (
        vm.capacity_reservation and vm.capacity_reservation.capacity_reservation_group) else None


def _parse(resource_id):
    from azure.mgmt.core.tools import parse_resource_id
    return parse_resource_id(resource_id)


def _parse_reservation(reservation_id):
    """(resource group, group name, reservation name) of a capacity reservation id."""
    parts = _parse(reservation_id)
    return parts['resource_group'], parts['name'], parts['child_name_1']
