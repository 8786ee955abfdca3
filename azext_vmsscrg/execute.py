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
from azure.core.exceptions import AzureError, HttpResponseError

from . import plan as p
from ._lro import Accepted, polling
from ._progress import Progress
from ._validators import MAX_CONCURRENCY
from .failures import CAPACITY, PERMANENT, TRANSIENT, answer_lost, classify, describe, refused, retry_after
from .snapshot import CHANGING_POWER, same_id
from .survey import read_member, read_members, read_power, read_rolling_upgrade

logger = get_logger(__name__)

DEFAULT_CONCURRENCY = None  # a step's batch at once, up to MAX_CONCURRENCY
ATTEMPTS = 4  # for a transient failure of one operation (throttling and 5xx are retried by the SDK first)
FIRST_DELAY = 2.0  # seconds before the second attempt; doubled each time, or Retry-After when longer
POLL_FIRST, POLL_MAX = 2.0, 30.0  # waiting for an upgrade policy: backoff between reads
BATCH_SECONDS = 900  # what one batch of an Automatic or Rolling upgrade may take, pauses apart
SETTLE_SECONDS = 600  # after an interruption, how long to wait for operations Azure already accepted
ALLOCATION_RETRY_TIMEOUT = 300  # seconds a start that finds no capacity is retried (vmsscrg.allocation_retry_timeout)
ROLL_GRACE = 10.0  # Rolling: seconds without a rolling upgrade after the model change before upgrading explicitly
WATCH_BOUND = 600.0  # Flexible: seconds a member may show no result before its operation's status is read
SETTLED = (None, 'Succeeded')  # provisioning states of a member no operation is changing


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
                 clock=time.monotonic, allocation_timeout=ALLOCATION_RETRY_TIMEOUT,
                 max_unavailable=p.DEFAULT_MAX_UNAVAILABLE, leave_deallocated=False):
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
        self.allocation_timeout = allocation_timeout
        self.returned = {}  # {key: group} members brought back to their original group because they could not start
        self._sleep = sleep
        self.max_unavailable = max_unavailable
        self.leave_deallocated = leave_deallocated  # --leave-deallocated: what a fallback deallocates stays so
        self.on_deallocate = None
        self.to_restart = []  # running members a fallback deallocated outside the plan: started at the end
        self.deferred = set()  # deallocated instances whose manualupgrade Azure applies only at their next start
        self.added = []  # Uniform instances added since the plan (autoscale) that a whole-set deallocation took down

    def run(self, steps, on_deallocate=None):
        """Run `steps` in order; returns one result per step. `on_deallocate(keys, running=())` runs before each
        deallocation is sent (the journal records the members there), and after a whole-set deallocation that took
        down instances added since the plan (`running`: to start again)."""
        results = []
        self.on_deallocate = on_deallocate
        self.progress.begin(len(steps))
        try:
            for n, step in enumerate(steps, 1):
                if step.action == p.DEALLOCATE and on_deallocate:
                    on_deallocate(set(self.taken_down) | set(step.targets))
                self.progress.step(n, p.describe(step))
                started = time.time()
                try:
                    getattr(self, f"_{step.action}")(step)
                except AzureError as ex:  # a read-back that failed after the SDK's own retries
                    raise StepFailed(step, describe(ex), classify(ex)) from ex
                results.append(dict(step.to_dict(), outcome='succeeded', seconds=round(time.time() - started, 1)))
            self._finish_fallbacks()
        except BaseException:
            self.stopping.set()
            self.progress.end(ok=False)
            raise
        self.progress.end(ok=True)
        return results

    # --- compensation ------------------------------------------------------------------------------
    def compensate(self, restore, origins=None):
        """Start again every member of `restore` (those running before) that this run took down; wait first for
        the operations Azure already accepted. A member that cannot start for lack of capacity is brought back to
        its original group (`origins`: {key: group id}, the model's under the scale set id) and started there.
        Returns {key: power state} of every member, read back."""
        self.compensating = True
        self.stopping.clear()
        if origins:  # the run's own start steps have retried already: what still finds no capacity goes back now
            self.allocation_timeout = 0
        restore = tuple(restore) + tuple(k for k in self.to_restart if k not in restore)
        states = self._settle()
        down = tuple(k for k in restore if k in self.taken_down and k in states
                     and states[k].power_state not in p.RESTARTED)
        if down:
            logger.warning('Starting again %d member(s) this run deallocated: %s', len(down), p.listed(down))
            try:
                self._start(p.Step(p.START, down, 'start again what this run deallocated'))
            except StepFailed as ex:
                if ex.kind == CAPACITY and origins:
                    self._back_to_origin(down, origins, ex)
                else:
                    logger.error('Could not start every member again: %s', ex)
            states = read_members(self.client, self.scale_set)
        return {k: m.power_state for k, m in states.items()}

    def _back_to_origin(self, keys, origins, error):
        """Members that found no capacity, back on the group they came from (its reservation still holds their
        capacity), then started: Flexible VM by VM; Uniform through the model, then each instance to the model."""
        states = read_members(self.client, self.scale_set)
        down = tuple(k for k in keys if k in states and states[k].power_state not in p.RESTARTED)
        moving = tuple(k for k in down if origins.get(k) and not same_id(states[k].group_id, origins[k]))
        logger.warning('%d member(s) cannot start for lack of capacity (%s); bringing them back to their original '
                       'group to start them there.', len(down), error)
        try:
            if self.flexible:
                for group in sorted({origins[k] for k in moving}):
                    self._setVmGroup(p.Step(p.SET_VM_GROUP, tuple(k for k in moving if origins[k] == group),
                                            'back to the original group', group=group))
            else:
                model = origins.get(self.scale_set.id)
                now = _model_group(self.client.virtual_machine_scale_sets.get(self.rg, self.name))
                if model and not same_id(now, model):
                    # only a zonal model on no group takes a group while instances run (attached in place)
                    in_place = self.scale_set.zones and not now
                    up = () if in_place else tuple(k for k, m in states.items() if m.power_state in p.RESTARTED)
                    if up:
                        logger.warning('Deallocating the %d running instance(s) too: the model can go back to its '
                                       'group only while no instance is allocated; all start there.', len(up))
                        self.taken_down.update(up)
                        self._deallocate(p.Step(p.DEALLOCATE, up, 'back to the original group'))
                        down += up
                    self._setModelGroup(p.Step(p.SET_MODEL_GROUP, (self.scale_set.id,), 'back to the original group',
                                               group=model))
                if model:
                    self._upgradeInstances(p.Step(p.UPGRADE, down, 'back to the original group'))
            home = {k: origins.get(k) if self.flexible else origins.get(self.scale_set.id) for k in down}
            self.returned.update({k: g for k, g in home.items() if g})
            self._power(p.Step(p.START, down, 'start on the original group'), 'begin_start',
                        lambda power: power == 'running')
        except StepFailed as ex:
            logger.error('Could not bring every member back to its original group and start it: %s', ex)

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
            raise StepFailed(step, (f'Reservation {name} reports capacity {result.sku.capacity} after it was set to '
                                    f'{step.capacity}.'))

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
            if step.group is None and refused(ex) and self._allocated():
                self._model_after_deallocating(step, ex)
                return
            added = sorted(set(read_members(self.client, self.scale_set)) - set(self.members))
            if ex.kind == PERMANENT and added:  # autoscale (or someone) added an allocated instance since the plan
                raise StepFailed(step, (f'{ex} Instance(s) {p.listed(added)} were added to the scale set since the '
                                        'plan was made; a new plan includes them.'), TRANSIENT) from ex
            raise
        if not same_id(now, step.group):
            raise StepFailed(step, f"The scale set's model reports group {now} after it was set to {step.group}.")

    def _model_after_deallocating(self, step, error):
        """Azure refused to detach the model of a scale set with allocated instances even at capacity 0 (the
        capacity-0 exception is documented for zonal machines only): deallocate them (the documented option 1: the
        model changes only while no instance is allocated), change the model, start them again at the end."""
        down = tuple(self._allocated())
        logger.warning("Azure refused to change the model while instances are allocated (%s); deallocating %d "
                       "instance(s) first, as %s option 1 does; they are started again at the end.", error,
                       len(down), p.DETACH_DOC)
        self._take_down(down, f"the model leaves its group only while no instance is allocated: {p.DETACH_DOC}")
        if not self.leave_deallocated:
            self.to_restart += [k for k in down if k not in self.to_restart]
        self._setModelGroup(step)

    def _allocated(self):
        states = read_members(self.client, self.scale_set)
        return [k for k, m in states.items() if m.power_state not in p.NOT_ALLOCATED]

    def _take_down(self, keys, reason):
        if self.on_deallocate:
            self.on_deallocate(set(self.taken_down) | set(keys))
        self._deallocate(p.Step(p.DEALLOCATE, tuple(keys), reason, disruptive=True))

    def _finish_fallbacks(self):
        """Bring instances added since the plan to the model, start what a fallback (or the whole-set deallocation)
        took down outside the plan, then apply the upgrades Azure keeps for a start."""
        stale = self._stale(self.added) if self.added else ()
        if stale:
            self._upgradeInstances(p.Step(p.UPGRADE, tuple(stale), 'instances added since the plan, to the model'))
        again = tuple(k for k in self.to_restart if k not in self._running()) if self.to_restart else ()
        if again:
            self._start(p.Step(p.START, again, 'start again what was deallocated to change the association'))
        self._apply_deferred()

    def _running(self):
        states = read_members(self.client, self.scale_set)
        return {k for k, m in states.items() if m.power_state in p.RESTARTED}

    def _apply_deferred(self):
        """Azure may accept a manualupgrade of a deallocated instance and apply it only when the instance next
        starts. An instance meant to stay deallocated is started and deallocated again: the only way its new
        association takes effect and can be read back (it runs for that moment only)."""
        if not self.deferred:
            return
        states = read_members(self.client, self.scale_set)
        left = tuple(k for k in sorted(self.deferred) if k in states and states[k].latest_model_applied is False
                     and states[k].power_state in p.NOT_ALLOCATED)
        self.deferred = set()
        if not left:
            return
        logger.warning('Azure applies the new model to %d deallocated instance(s) only when they start: starting '
                       'and deallocating them again (%s).', len(left), ', '.join(left[:10]))
        self._start(p.Step(p.START, left, 'a deallocated instance takes the latest model when it starts'))
        self._deallocate(p.Step(p.DEALLOCATE, left, 'it was deallocated before: it stays so'))
        stale = self._stale(left)
        if stale:
            raise StepFailed(p.Step(p.UPGRADE, left, 'apply at start'), (f"{len(stale)} instance(s) are not on the "
                                                                         "latest model after a start: "
                                                                         f"{', '.join(stale[:10])}."))

    def _setVmGroup(self, step):
        body = _bytes({'properties': {'capacityReservation': {'capacityReservationGroup': {'id': step.group}}}})

        def send(key):
            vm = self.members[key]
            method = Accepted()
            self.client.virtual_machines.begin_update(_parse(vm.id)['resource_group'], vm.name, body(),
                                                      polling=method)
            return method

        def refused_allocated(key, ex):  # refused while allocated: moved while deallocated below
            return refused(ex) and read_power(self.client, self.members[key].id) not in p.NOT_ALLOCATED
        refused_members = self._flex(step, send, lambda m: same_id(m.group_id, step.group), refused_allocated)
        if refused_members:
            self._vm_group_by_deallocation(step, [k for k in step.targets if k in refused_members])

    def _vm_group_by_deallocation(self, step, keys):
        """Azure refused to change these running members in place (attaching a running zonal VM is a preview
        feature, and leaving at capacity 0 is documented for zonal VMs only): deallocate, change, start, in
        batches of --max-unavailable."""
        logger.warning('Azure refused to change %d running member(s) in place; moving them while deallocated, at '
                       'most %d%% of the members at a time: %s', len(keys), self.max_unavailable,
                       ', '.join(keys[:10]))
        batches = p.batches(tuple(keys), self.max_unavailable, len(self.members))
        for label, batch in batches:
            self._take_down(batch, f"an allocated member must be deallocated to change group: {p.FLEX_DOC}")
            self._setVmGroup(p.Step(p.SET_VM_GROUP, batch, step.reason, group=step.group, batch=label))
            if not self.leave_deallocated:
                self._start(p.Step(p.START, batch, 'start again the members of this batch', batch=label))

    def _deallocate(self, step):
        self._power(step, 'begin_deallocate', lambda power: power in p.NOT_ALLOCATED)

    def _start(self, step):
        """Start; where Azure has no capacity now, try again the members still down, with backoff, for up to
        allocation_timeout seconds (then the StepFailed of kind CAPACITY stands)."""
        deadline = self.clock() + self.allocation_timeout
        delay = FIRST_DELAY
        while True:
            try:
                return self._power(step, 'begin_start', lambda power: power == 'running')
            except StepFailed as ex:
                left = deadline - self.clock()
                if ex.kind != CAPACITY or left <= 0:
                    raise
                self.stopping.clear()  # set by the failed member; an interruption raises in this thread instead
                wait_for = min(delay, left)
                logger.warning('No capacity to start now (%s); trying again in %.0f s, for up to %.0f s more',
                               ex, wait_for, left)
                self._pause(wait_for)
                self._check_stopping()
                states = read_members(self.client, self.scale_set)
                still = tuple(k for k in step.targets if k in states and states[k].power_state != 'running')
                if not still:
                    return None
                step = p.Step(step.action, still, step.reason, batch=step.batch)
                delay *= 2

    def _power(self, step, operation, done):
        if not step.targets and not step.whole_set:
            return  # an empty list of instance ids is read as the whole scale set (as none is): nothing is sent
        down = operation == 'begin_deallocate'
        if self.flexible:
            def send(key):
                vm = self.members[key]
                if down:
                    self.taken_down.add(key)
                method = Accepted(action=True)
                rg = _parse(vm.id)['resource_group']
                getattr(self.client.virtual_machines, operation)(rg, vm.name, polling=method)
                return method
            self._flex(step, send, lambda m: done(m.power_state))
            wrong = ()  # the watch raised for members that did not get there
        else:
            # a whole-set deallocation names no instance, as `az vmss deallocate` does: Azure takes down the instances
            # added since the plan too (autoscale), and skips those protected from scale set actions
            ids = None if step.whole_set else _bytes({'instanceIds': list(step.targets)})
            if down:
                self.taken_down.update(step.targets)

            def applied():
                return True if not self._not_yet(step, done) else None
            self._retry(step, lambda: getattr(self.client.virtual_machine_scale_sets, operation)(
                self.rg, self.name, vm_instance_i_ds=ids and ids(), polling=polling(action=True)).result(), applied)
            wrong = self._not_yet(step, done)
        if wrong:
            raise StepFailed(step, (f'{len(wrong)} member(s) did not reach the expected power state: '
                                    f'{p.listed(sorted(wrong))}.'))

    def _not_yet(self, step, done):
        states = read_members(self.client, self.scale_set)
        if step.whole_set:
            self._took_down_added(states)
        added = tuple(self.added) if step.whole_set else ()
        return [k for k in step.targets + added if k in states and not done(states[k].power_state)]

    def _took_down_added(self, states):
        """Instances added since the plan, which the whole-set deallocation took down: Azure creates them running, so
        they are recorded as this run's, brought to the model and started at the end (or by compensation)."""
        new = [k for k in states if k not in self.members and k not in self.added]
        if not new:
            return
        logger.warning('%d instance(s) were added to the scale set since the plan (%s); the deallocation of the whole '
                       'set took them down too: they are brought to the new model and started again at the end.',
                       len(new), p.listed(new))
        self.added += new
        self.taken_down.update(new)
        if not self.leave_deallocated:
            self.to_restart += new
        if self.on_deallocate:
            self.on_deallocate(set(self.taken_down), running=set(new))

    def _upgradeInstances(self, step):
        body = {'instanceIds': list(step.targets)}

        def applied():
            return True if not self._stale(step.targets) else None
        self._retry(step, lambda: self.client.virtual_machine_scale_sets.begin_update_instances(
            self.rg, self.name, _bytes(body)(), polling=polling(action=True)).result(), applied)
        states = read_members(self.client, self.scale_set)
        stale = [k for k in step.targets if k in states and states[k].latest_model_applied is False]
        later = {k for k in stale if states[k].power_state in p.NOT_ALLOCATED}
        self.deferred |= later  # accepted, applied at the next start (checked after the run's starts)
        stale = [k for k in stale if k not in later]
        if stale:
            raise StepFailed(step, (f'{len(stale)} instance(s) are not on the latest model after the upgrade: '
                                    f'{p.listed(stale)}.'))

    def _waitForUpgrade(self, step):
        """Automatic and Rolling policies: Azure upgrades the instances. Rolling: follow the rolling upgrade's
        status (not the instances) and stop at once when it ends Faulted or Cancelled. Bounded by what the
        policy implies: its number of batches, each with its pause."""
        bound = self._upgrade_bound()
        deadline = self.clock() + bound
        rolling = self.scale_set.upgrade_mode == 'Rolling'
        delay = POLL_FIRST
        idle_since = None
        while True:
            self._check_stopping()
            status = read_rolling_upgrade(self.client, self.scale_set) if rolling else None
            code = status[0] if status else None
            if code != 'RollingForward':
                stale = self._stale(step.targets)
                if not stale:
                    return
                if code in ('Faulted', 'Cancelled'):
                    raise StepFailed(step, ("The rolling upgrade ended "
                                            f"{code}{(f': {status[2]}' if status[2] else '')}; {len(stale)} "
                                            f"instance(s) are not on the new model: {p.listed(stale)}."))
                if rolling:  # no rolling upgrade runs: Azure may leave it to us after a model change
                    idle_since = self.clock() if idle_since is None else idle_since
                    if self.clock() - idle_since >= ROLL_GRACE:
                        self._upgrade_explicitly(step, stale)
                        return
                self.progress.advance(len(step.targets) - len(stale), len(step.targets))
            if self.clock() > deadline:
                raise StepFailed(step, (f'The {self.scale_set.upgrade_mode} upgrade policy has not brought every '
                                        f'instance to the new model within {bound:.0f} seconds, what its batches and '
                                        'pauses allow.'), TRANSIENT)
            self._pause(delay)
            delay = min(delay * 2, POLL_MAX)

    def _upgrade_explicitly(self, step, stale):
        """No rolling upgrade followed the model change: bring the instances to it with manualupgrade, the
        deallocated ones at once, the running ones in batches of the rolling policy's maxBatchInstancePercent."""
        logger.warning('No rolling upgrade started after the model change; upgrading %d instance(s) explicitly '
                       '(manualupgrade) in batches of the rolling upgrade policy.', len(stale))
        running = self._running()
        idle = tuple(k for k in stale if k not in running)
        if idle:
            self._upgradeInstances(p.Step(p.UPGRADE, idle, step.reason))
        for label, batch in p.batches(tuple(k for k in stale if k in running),
                                      self.scale_set.max_batch_percent or p.DEFAULT_MAX_UNAVAILABLE,
                                      len(self.members)):
            self._upgradeInstances(p.Step(p.UPGRADE, batch, step.reason, batch=label))

    def _upgrade_bound(self):
        if self.scale_set.upgrade_mode != 'Rolling':
            return BATCH_SECONDS
        batches = math.ceil(100.0 / max(1, self.scale_set.max_batch_percent or 20))
        return batches * BATCH_SECONDS + (batches - 1) * self.scale_set.pause_seconds

    def _stale(self, keys):
        states = read_members(self.client, self.scale_set)
        return [k for k in keys if k in states and states[k].latest_model_applied is False]

    # --- Flexible batches -------------------------------------------------------------------------
    def _flex(self, step, send, wanted, on_error=None):
        """Flexible members, one operation each: `send(key)` sends it and returns its accepting answer (Accepted),
        which is kept, not polled; then one paged list of the members watches the batch (_watch) until each shows
        `wanted(member)`. A transient failure sends that member's operation again (up to ATTEMPTS); a failure for
        which `on_error(key, StepFailed)` is true leaves the member out. Returns the members left out."""
        batch = _Batch(step, wanted, on_error)
        todo = tuple(step.targets)
        while todo:
            batch.ops = {}

            def one(key):
                batch.tries[key] += 1
                try:
                    batch.ops[key] = self._retry(step, lambda: send(key), lambda: True if wanted(
                        read_member(self.client, self.members[key].id)) else None)
                except StepFailed as ex:
                    if not (on_error and on_error(key, ex)):
                        raise
                    batch.left_out.append(key)
            self._each(p.Step(step.action, todo, step.reason, batch=step.batch), one, count=False)
            self._watch(batch)
            todo = tuple(k for k in step.targets if k in batch.again)
            if todo:
                batch.again.clear()
                self._pause(batch.resend_after)
                self._check_stopping()
        return batch.left_out

    def _watch(self, batch):
        """Follow accepted operations in one paged list of the members (the list shows each member's power state,
        group and provisioning state), first after the answers' Retry-After, then at a pace that spends about one
        page for every two members found done, with backoff while none is. Raises the first failure once no
        operation of the batch is running."""
        waiting = set(batch.ops)
        since = dict.fromkeys(waiting, self.clock())
        afters = [op.retry_after() for op in batch.ops.values() if isinstance(op, Accepted) and op.retry_after()]
        delay = max(1.0, min(afters)) if afters else POLL_FIRST
        last = self.clock()
        while waiting:
            self._pause(delay)
            if not batch.failures:
                self._check_stopping()
            pages = []
            states = read_members(self.client, self.scale_set, pages)
            now, found = self.clock(), 0
            for key in sorted(waiting):
                overdue = now - since[key] >= WATCH_BOUND
                if batch.over(key, states.get(key), overdue, now):
                    waiting.discard(key)
                    found += 1
                elif overdue:  # its status was read: still running
                    since[key] = now
            self.progress.advance(len(batch.finished), len(batch.step.targets))
            elapsed, last = now - last, now
            if found:
                delay = min(max(2.0 * (pages[0] if pages else 1) * elapsed / found, 1.0), POLL_MAX)
            else:
                delay = min(delay * 2, POLL_MAX)
        if batch.failures:
            raise next((f for f in batch.failures if f.kind != TRANSIENT), batch.failures[0])

    # --- mechanics -------------------------------------------------------------------------------
    def _each(self, step, fn, count=True):
        """Run `fn(key)` for every target with bounded concurrency. The first failure (or an interruption)
        cancels what is queued; what is running finishes; then the first permanent failure is raised. `count`:
        each member done advances the progress."""
        done = [0]
        lock = threading.Lock()

        def counted(key):
            self._check_stopping()
            try:
                fn(key)
            except Exception:
                self.stopping.set()  # before this worker takes the next queued member
                raise
            if count:
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
                    raise StepFailed(step, f'{describe(ex)} (after {ATTEMPTS} attempts)', kind) from ex
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


class _Batch:  # pylint: disable=too-many-instance-attributes,too-few-public-methods
    """What a Flexible batch's watch knows of each member's operation."""

    def __init__(self, step, wanted, on_error):
        self.step, self.wanted, self.on_error = step, wanted, on_error
        self.ops = {}  # {key: Accepted, or True when found applied after a lost answer}
        self.tries = dict.fromkeys(step.targets, 0)
        self.finished, self.again = set(), set()
        self.next_check, self.check_every = {}, {}  # {key: clock} when a member that looks failed is read again
        self.left_out, self.failures = [], []
        self.resend_after = FIRST_DELAY

    def over(self, key, member, overdue, now):
        """Whether the member's operation is over (done, failed, to send again), from its entry in the list. One
        that looks failed (provisioning Failed, or settled where it should not be) or is `overdue` gets its
        operation's status read: Azure's error is classified as an operation polled alone would be. While that
        status says running, it is read again with backoff: the member may have looked settled before the
        operation reached it, and an action that fails leaves it where it was."""
        # a member is done only once its power state stops changing: one still deallocating is allocated for Azure
        good = member is not None and member.power_state not in CHANGING_POWER and self.wanted(member)
        if good and member.provisioning_state in SETTLED:
            self.finished.add(key)
            return True
        odd = member is None or member.provisioning_state == 'Failed' or (
            member.power_state not in CHANGING_POWER and member.provisioning_state in SETTLED)
        if not (odd and now >= self.next_check.get(key, now)) and not overdue:
            return False
        every = self.check_every.get(key, POLL_FIRST)
        self.next_check[key], self.check_every[key] = now + every, min(every * 2, POLL_MAX)
        op = self.ops[key]
        try:
            ended = op.check() if isinstance(op, Accepted) else True
        except HttpResponseError as ex:
            self._failed(key, ex)
            return True
        if ended and good:  # done, although its provisioning state says otherwise
            self.finished.add(key)
        elif ended and odd:  # Azure says done, the member says otherwise
            self.failures.append(StepFailed(self.step, f'Member {key} did not reach the expected state: it shows '
                                                       f'{member.power_state if member else "no such member"}.'))
        return ended and (good or odd)

    def _failed(self, key, ex):
        kind = classify(ex)
        if kind == TRANSIENT and self.tries[key] < ATTEMPTS:
            logger.warning('%s of %s failed (%s); sending it again', self.step.action, key, describe(ex))
            self.again.add(key)
            self.resend_after = max(self.resend_after, retry_after(ex) or 0.0)
            return
        failure = StepFailed(self.step, describe(ex) + (f' (after {ATTEMPTS} attempts)' if kind == TRANSIENT
                                                        else ''), kind)
        failure.__cause__ = ex
        if self.on_error and self.on_error(key, failure):
            self.left_out.append(key)
        else:
            self.failures.append(failure)


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
