"""Run a plan's steps: long-running operations, bounded concurrency, retries, progress, read-back.

Each write is checked by reading back what it should have changed. The first step that cannot
succeed stops the run with an error that says what state the scale set is in and the command that
finishes the job (the same command again: the plan is recomputed from what Azure reports).
"""
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError
from knack.log import get_logger

from . import plan as p
from ._lro import polling
from ._validators import MAX_CONCURRENCY
from .snapshot import same_id

logger = get_logger(__name__)

DEFAULT_CONCURRENCY = None  # a step's batch at once, up to MAX_CONCURRENCY
ATTEMPTS = 4  # for a transient failure of one operation (throttling and 5xx are retried by the SDK first)
POLL_SECONDS = 2
UPGRADE_TIMEOUT = 3 * 3600


class StepFailed(Exception):
    def __init__(self, step, message):
        super().__init__(message)
        self.step = step


class Executor:
    """Runs the steps of a plan against one scale set. `snapshot` resolves step targets to resources."""

    def __init__(self, client, snapshot, concurrency=DEFAULT_CONCURRENCY, progress=None, sleep=time.sleep):
        self.client = client
        self.snapshot = snapshot
        self.scale_set = snapshot.scale_set
        self.rg = self.scale_set.resource_group
        self.name = self.scale_set.name
        self.members = {p.member_key(i): i for i in snapshot.instances}
        self.concurrency = max(1, concurrency) if concurrency else MAX_CONCURRENCY
        self.progress = progress
        self.sleep = sleep

    def run(self, steps, before_disruption=None):
        """Run `steps` in order; returns one result per step. `before_disruption()` runs once, before the first
        disruptive step (the journal is written there)."""
        results = []
        for n, step in enumerate(steps, 1):
            if step.disruptive and before_disruption:
                before_disruption()
                before_disruption = None
            label = 'Step {}/{}: {} {}{}'.format(n, len(steps), step.action, _count(step),
                                                 ' (batch {})'.format(step.batch) if step.batch else '')
            logger.warning('%s', label)
            self._report(label, n - 1, len(steps))
            started = time.time()
            try:
                getattr(self, '_' + step.action)(step)
            except AzureError as ex:  # a read-back that failed after the SDK's own retries
                raise StepFailed(step, _message(ex)) from ex
            results.append(dict(step.to_dict(), outcome='succeeded', seconds=round(time.time() - started, 1)))
        self._report('Done', len(steps), len(steps))
        return results

    def _report(self, message, value, total):
        if self.progress is not None:
            self.progress.add(message=message, value=value, total_val=max(total, 1))

    # --- steps -----------------------------------------------------------------------------------
    def _setReservationCapacity(self, step):
        for reservation_id in step.targets:
            rg, group, name = _parse_reservation(reservation_id)
            body = _bytes({'sku': {'capacity': step.capacity}})
            result = self._retry(step, lambda: self.client.capacity_reservations.begin_update(
                rg, group, name, body(), polling=polling()).result())
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

        result = self._retry(step, put)
        profile = result.virtual_machine_profile
        now = profile.capacity_reservation.capacity_reservation_group.id if (
            profile and profile.capacity_reservation and profile.capacity_reservation.capacity_reservation_group) \
            else None
        if not same_id(now, step.group):
            raise StepFailed(step, "The scale set's model reports group {} after it was set to {}.".format(
                now, step.group))

    def _setVmGroup(self, step):
        def one(key):
            vm = self.members[key]
            rg = _parse(vm.id)['resource_group']
            body = _bytes({'properties': {'capacityReservation': {'capacityReservationGroup': {'id': step.group}}}})
            result = self._retry(step, lambda: self.client.virtual_machines.begin_update(
                rg, vm.name, body(), polling=polling()).result())
            now = result.capacity_reservation.capacity_reservation_group.id if (
                result.capacity_reservation and result.capacity_reservation.capacity_reservation_group) else None
            if not same_id(now, step.group):
                raise StepFailed(step, 'VM {} reports group {} after it was set to {}.'.format(
                    vm.name, now, step.group))
        self._each(step, one)

    def _deallocate(self, step):
        self._power(step, 'begin_deallocate', lambda power: power in p.NOT_ALLOCATED)

    def _start(self, step):
        self._power(step, 'begin_start', lambda power: power == 'running')

    def _power(self, step, operation, done):
        if self.scale_set.orchestration_mode == p.FLEXIBLE:
            wrong = []

            def one(key):
                vm = self.members[key]
                rg = _parse(vm.id)['resource_group']
                self._retry(step, lambda: getattr(self.client.virtual_machines, operation)(
                    rg, vm.name, polling=polling(action=True)).result())
                # read back this member alone, as soon as it is done: a list of every member after each batch
                # would read the whole scale set again for the few members the batch changed
                if not done(_power_state(self.client.virtual_machines.instance_view(rg, vm.name))):
                    wrong.append(key)
            self._each(step, one)
        else:
            ids = {'instanceIds': list(step.targets)}
            self._retry(step, lambda: getattr(self.client.virtual_machine_scale_sets, operation)(
                self.rg, self.name, vm_instance_i_ds=_bytes(ids)(), polling=polling(action=True)).result())
            wrong = [key for key, power in self._power_states().items() if key in step.targets and not done(power)]
        if wrong:
            raise StepFailed(step, '{} member(s) did not reach the expected power state: {}.'.format(
                len(wrong), ', '.join(sorted(wrong)[:10])))

    def _upgradeInstances(self, step):
        body = {'instanceIds': list(step.targets)}
        self._retry(step, lambda: self.client.virtual_machine_scale_sets.begin_update_instances(
            self.rg, self.name, _bytes(body)(), polling=polling(action=True)).result())
        stale = [key for key, latest in self._latest_model().items() if key in step.targets and latest is False]
        if stale:
            raise StepFailed(step, '{} instance(s) are not on the latest model after the upgrade: {}.'.format(
                len(stale), ', '.join(stale[:10])))

    def _waitForUpgrade(self, step):
        """Automatic and Rolling policies: Azure upgrades the instances; follow it until every one is done."""
        deadline = time.time() + UPGRADE_TIMEOUT
        rolling = self.scale_set.upgrade_mode == 'Rolling'
        last = None
        while True:
            if rolling:
                status = self._rolling_status()
                if status and status != last:
                    logger.warning('Rolling upgrade: %s', status)
                    last = status
            stale = [k for k, latest in self._latest_model().items() if latest is False]
            if not stale:
                return
            if time.time() > deadline:
                raise StepFailed(step, '{} instance(s) still not on the latest model after {} seconds.'.format(
                    len(stale), UPGRADE_TIMEOUT))
            self._report('Waiting for {} instance(s) to take the new model'.format(len(stale)), 0, 1)
            self.sleep(POLL_SECONDS)

    # --- reads -----------------------------------------------------------------------------------
    def _instances(self):
        if self.scale_set.orchestration_mode == p.FLEXIBLE:
            return list(self.client.virtual_machines.list(
                self.rg, filter="'virtualMachineScaleSet/id' eq '{}'".format(self.scale_set.id),
                expand='instanceView'))
        # only what a read-back needs (instance id, instance view, latestModelApplied): a whole instance takes
        # several times longer to deserialize, and each step reads every instance back
        return list(self.client.virtual_machine_scale_set_vms.list(self.rg, self.name, expand='instanceView',
                                                                   select='instanceView'))

    def _power_states(self):
        out = {}
        for vm in self._instances():
            key = vm.instance_id if self.scale_set.orchestration_mode != p.FLEXIBLE else vm.name
            view = vm.instance_view
            if view is None and self.scale_set.orchestration_mode == p.FLEXIBLE:
                view = self.client.virtual_machines.instance_view(_parse(vm.id)['resource_group'], vm.name)
            out[key] = _power_state(view)
        return out

    def _latest_model(self):
        return {vm.instance_id: vm.latest_model_applied for vm in self._instances()}

    def _rolling_status(self):
        from azure.core.exceptions import ResourceNotFoundError
        try:
            latest = self.client.virtual_machine_scale_set_rolling_upgrades.get_latest(self.rg, self.name)
        except ResourceNotFoundError:
            return None
        progress = latest.progress
        return '{}: {} done, {} in progress, {} pending, {} failed'.format(
            latest.running_status.code if latest.running_status else 'unknown',
            progress.successful_instance_count, progress.in_progress_instance_count,
            progress.pending_instance_count, progress.failed_instance_count) if progress else None

    # --- mechanics -------------------------------------------------------------------------------
    def _each(self, step, fn):
        """Run `fn(key)` for every target with bounded concurrency; the first failure stops the step."""
        done = [0]

        def counted(key):
            fn(key)
            done[0] += 1
            self._report('{} {}/{}'.format(step.action, done[0], len(step.targets)), done[0], len(step.targets))

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(step.targets))) as pool:
            for future in [pool.submit(counted, key) for key in step.targets]:
                future.result()

    def _retry(self, step, fn):
        """Run one operation, again after a transient failure: an operation that ended Failed, 409 (another
        operation in progress), 412 (the resource changed since it was read), 429, 5xx, a dropped connection."""
        delay = 2.0
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn()
            except AzureError as ex:
                if not _transient(ex):
                    raise StepFailed(step, _message(ex)) from ex
                if attempt == ATTEMPTS:
                    raise StepFailed(step, '{} (after {} attempts)'.format(_message(ex), ATTEMPTS)) from ex
                logger.warning('%s failed (%s); retrying in %.0f s', step.action, _message(ex), delay)
            self.sleep(delay)
            delay *= 2
        return None


def _transient(ex):
    """Worth another attempt. An HttpResponseError with a 2xx status is a long-running operation that ended
    Failed (its status was read with 200); a request that Azure refused for what it asks is not retried."""
    if isinstance(ex, (ServiceRequestError, ServiceResponseError)):
        return True
    if not isinstance(ex, HttpResponseError):
        return False
    status = ex.status_code
    return status is None or status < 400 or status in (409, 412, 429) or status >= 500


def _bytes(body):
    """A factory of request bodies sent as JSON exactly as written: the SDK's models drop an explicit null."""
    data = json.dumps(body).encode()
    return lambda: io.BytesIO(data)


def _power_state(view):
    codes = [s.code for s in (view.statuses or ()) if (s.code or '').startswith('PowerState/')] if view else []
    return codes[0].split('/', 1)[1] if codes else None


def _count(step):
    n = len(step.targets)
    if step.action == p.SET_MODEL_GROUP:
        return 'to {}'.format(step.group or 'none')
    return '{} target{}'.format(n, '' if n == 1 else 's')


def _message(ex):
    error = getattr(ex, 'error', None)
    if error is not None and getattr(error, 'message', None):
        return '{}: {}'.format(error.code, error.message)
    return str(ex).splitlines()[0] if str(ex) else type(ex).__name__


def _parse(resource_id):
    from azure.mgmt.core.tools import parse_resource_id
    return parse_resource_id(resource_id)


def _parse_reservation(reservation_id):
    """(resource group, group name, reservation name) of a capacity reservation id."""
    parts = _parse(reservation_id)
    return parts['resource_group'], parts['name'], parts['child_name_1']
