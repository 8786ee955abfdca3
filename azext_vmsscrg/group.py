# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""A whole capacity reservation group: what is on it (`status --crg`), and emptying it (`detach --crg`).

A group can be deleted only once no VM or scale set is associated with it and its reservations are deleted
(the REST specification of CapacityReservationGroups_Delete). The group lists its members
(virtualMachinesAssociated); a scale set whose model holds the group but that has no instance is found by
listing the scale sets of the group's subscription and of those it is shared with.

The group-wide detach is the single detach applied to every member at once: each scale set is a unit, and the
standalone VMs of each resource group are one more unit handled as the members of a scale set without a profile
(deallocate, clear, start again what was running). One plan, one confirmation, then the units run a few at a
time, each with its journal; a record for the group names every unit, so that a re-run after an interruption
finds again the members it already took off the group and starts them again.
"""
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import partial
from typing import Optional, Tuple

from knack.log import get_logger
from azure.cli.core.azclierror import (AzureResponseError, ManualInterrupt, ResourceNotFoundError,
                                       UnclassifiedUserFault, ValidationError)

from . import plan as p
from ._client_factory import cf_compute_for_subscription
from ._progress import Progress
from .execute import Cancelled, Executor, StepFailed
from .failures import TRANSIENT, classify, describe, error_code
from .journal import Journal, Record, new_record
from .outcome import failure, intent_options, verify, where
from .prompt import ask_to_continue, prompting, summary
from .snapshot import FLEXIBLE, ReadError, ScaleSet, Snapshot, normalize_id, resource_name, same_id
from .run import autoscale_warnings, compensate, interruptible, journal_recorder, read_or_none, usable_record
from .status import build_status, read_error_entry, reservation_entry
from .survey import SETTLE_TIMEOUT, read_error, read_group, inspect_scale_set, read_vms, wait_until_settled

logger = get_logger(__name__)

# units (scale sets, standalone VMs of one resource group) detached at once (az config set vmsscrg.group_concurrency=N)
GROUP_CONCURRENCY = 4
DELETE_SECONDS = 300  # how long a delete refused for associations Azure still lists is tried again
DELETE_POLL_FIRST, DELETE_POLL_MAX = 2.0, 30.0
# Azure's association lists lag a change: a delete right after the detach may meet these codes for a while
LAGGING_CODES = ('operationnotallowed', 'cannotdeleteresource', 'nestedresourcesexist')
RESERVATION_COMMAND = 'az capacity reservation delete -g {} -c {} -n {} --yes'
GROUP_COMMAND = 'az capacity reservation group delete -g {} -n {} --yes'


@dataclass(frozen=True)
class Members:
    """What is on a group: read by `survey_group`."""
    group: object  # snapshot.Group
    shared_with: Tuple[str, ...]  # subscription ids
    scale_sets: Tuple[str, ...]  # ids of scale sets with a model or an instance on the group
    vms: Tuple[str, ...]  # ids of standalone VMs on the group
    unreadable: Tuple[ReadError, ...]  # members (or subscriptions) that could not be read


@dataclass(frozen=True)
class Unit:
    """A scale set, or the standalone VMs of one resource group, with its plan."""
    snapshot: Snapshot
    plan: p.Plan
    intent: p.Intent
    journal: Optional[Journal] = None  # a scale set's own journal; None for standalone VMs (the group's record)
    record: Optional[Record] = None

    @property
    def standalone(self):
        return bool(self.snapshot.scale_set.member_ids)

    @property
    def label(self):
        ss = self.snapshot.scale_set
        return f'standalone VMs in {ss.resource_group}' if self.standalone else f"scale set {ss.name}"


class Clients:
    """A compute client per subscription: the command's own, or one for another subscription."""

    def __init__(self, cmd, client):
        from azure.cli.core.commands.client_factory import get_subscription_id
        self.own = get_subscription_id(cmd.cli_ctx).lower()
        self.client = client
        self.other = partial(cf_compute_for_subscription, cmd.cli_ctx)
        self.made = {}
        self.lock = threading.Lock()

    def __call__(self, subscription):
        if subscription.lower() == self.own:
            return self.client
        with self.lock:
            if subscription.lower() not in self.made:
                self.made[subscription.lower()] = self.other(subscription)
            return self.made[subscription.lower()]

    def of(self, resource_id):
        return self(_parse(resource_id)['subscription'])


# --- reading ---------------------------------------------------------------------------------------
def survey_group(clients, group_id, remembered=()):  # pylint: disable=too-many-locals
    """The group and its members. `remembered`: ids an unfinished group-wide run covered (scale sets and VMs),
    looked at again although the group may no longer list them."""
    from azure.core.exceptions import HttpResponseError
    group, error = read_group(clients.of(group_id), group_id)
    if error is not None:
        if error.status_code == 404:
            raise ResourceNotFoundError(f"Capacity reservation group '{group_id}' was not found.",
                                        recommendation="Check --capacity-reservation-group: 'az capacity reservation "
                                                       "group list -o table' lists the groups you can read.")
        raise UnclassifiedUserFault(f"Cannot read capacity reservation group '{group_id}': {error.message}")
    parts = _parse(group_id)
    shown = clients.of(group_id).capacity_reservation_groups.get(parts['resource_group'], parts['name'])
    shared = tuple(s.id.rstrip('/').rsplit('/', 1)[-1] for s in (shown.sharing_profile.subscription_ids or ())
                   if s.id) if shown.sharing_profile else ()
    scale_sets, vms, unreadable = {}, {}, []
    candidates = []
    for vm_id in tuple(group.associated_ids) + tuple(remembered):
        vm_parts = _parse(vm_id)
        if (vm_parts.get('type') or '').lower() == 'virtualmachinescalesets':
            scale_sets.setdefault(normalize_id(_scale_set_id(vm_parts)), _scale_set_id(vm_parts))
        elif normalize_id(vm_id) not in {normalize_id(c) for c in candidates}:
            candidates.append(vm_id)

    by_scope = {}  # one paged list of VMs per resource group tells scale set members from standalone VMs
    for vm_id in candidates:
        vm_parts = _parse(vm_id)
        by_scope.setdefault((vm_parts['subscription'], vm_parts['resource_group'].lower()), []).append(vm_id)
    for (subscription, _), ids in by_scope.items():
        rg = _parse(ids[0])['resource_group']
        try:
            listed = {normalize_id(vm.id): vm for vm in clients(subscription).virtual_machines.list(rg)}
        except HttpResponseError as ex:
            unreadable += [read_error(vm_id, ex) for vm_id in ids]
            continue
        for vm in (listed[normalize_id(vm_id)] for vm_id in ids if normalize_id(vm_id) in listed):
            if vm.virtual_machine_scale_set is not None:  # a VM deleted since the group listed it is not on it
                scale_sets.setdefault(normalize_id(vm.virtual_machine_scale_set.id), vm.virtual_machine_scale_set.id)
            else:
                vms.setdefault(normalize_id(vm.id), vm.id)
    for subscription in _subscriptions(parts['subscription'], shared):
        try:
            for vmss in clients(subscription).virtual_machine_scale_sets.list_all():
                profile = vmss.virtual_machine_profile
                reservation = profile.capacity_reservation if profile else None
                held = reservation.capacity_reservation_group.id if reservation and \
                    reservation.capacity_reservation_group else None
                if same_id(held, group_id):
                    scale_sets.setdefault(normalize_id(vmss.id), vmss.id)
        except HttpResponseError as ex:
            unreadable.append(read_error(f"/subscriptions/{subscription}", ex))
    return Members(group, shared, tuple(sorted(scale_sets.values(), key=str.lower)),
                   tuple(sorted(vms.values(), key=str.lower)), tuple(unreadable))


def _subscriptions(own, shared):
    seen = {}
    for subscription in (own,) + tuple(shared):
        seen.setdefault(subscription.lower(), subscription)
    return tuple(seen.values())


def _scale_set_id(parts):
    return (f"/subscriptions/{parts['subscription']}/resourceGroups/{parts['resource_group']}"
            f"/providers/Microsoft.Compute/virtualMachineScaleSets/{parts['name']}")


def scale_set_survey(clients, scale_set_id):
    """A function that reads the scale set's snapshot (survey.inspect_scale_set) each time it is called."""
    parts = _parse(scale_set_id)
    return partial(inspect_scale_set, clients(parts['subscription']), parts['resource_group'], parts['name'],
                   client_for_subscription=clients)


def standalone_snapshots(clients, group, vm_ids):
    """One snapshot per resource group of standalone VMs, as the members of a scale set without a profile. Only
    VMs on this group or on none (an earlier run took them off) are included."""
    by_scope = {}
    for vm_id in vm_ids:
        vm_parts = _parse(vm_id)
        by_scope.setdefault((vm_parts['subscription'].lower(), vm_parts['resource_group'].lower()), []).append(vm_id)
    out = []
    for ids in by_scope.values():
        vm_parts = _parse(ids[0])
        client = clients(vm_parts['subscription'])
        scale_set = ScaleSet(id=f"{group.id}/virtualMachines/{vm_parts['resource_group']}",
                             name=f"virtual machines of {vm_parts['resource_group']}",
                             resource_group=vm_parts['resource_group'], orchestration_mode=FLEXIBLE,
                             upgrade_mode='Manual', zones=(), sku_name=None, capacity=None, has_vm_profile=False,
                             model_group_id=None, member_ids=tuple(ids))

        def survey(client=client, scale_set=scale_set):
            instances = tuple(i for i in read_vms(client, scale_set.member_ids)
                              if not i.group_id or same_id(i.group_id, group.id))
            return Snapshot(scale_set, instances, group)
        out.append(survey)
    return out


# --- status ----------------------------------------------------------------------------------------
def group_status(cmd, client, group_id):
    clients = Clients(cmd, client)
    record = group_journal(cmd, group_id).load()
    members = survey_group(clients, group_id, record.members if record else ())
    scale_sets = []
    for scale_set_id in members.scale_sets:
        snapshot = scale_set_survey(clients, scale_set_id)()
        scale_sets.append(_scale_set_status(snapshot, Journal(cmd.cli_ctx.config.config_dir, scale_set_id).load(),
                                            group_id))
    vms = [_vm_status(i) for survey in standalone_snapshots(clients, members.group, members.vms)
           for i in survey().instances]
    return build_group_status(members, scale_sets, vms, record)


def build_group_status(members, scale_sets, vms, record=None):
    """Pure: the `status --crg` result."""
    group = members.group
    on_group = [s for s in scale_sets if s['instancesOnGroup'] or s['modelOnGroup']]
    vms_on = [vm for vm in vms if same_id(vm['capacityReservationGroup'], group.id)]
    blockers = []
    if on_group:
        blockers.append(f"{len(on_group)} scale set(s) have their model or instances on the group: "
                        f"{', '.join((s['name'] for s in on_group))}")
    if vms_on:
        blockers.append(f"{len(vms_on)} standalone virtual machine(s) are on the group: "
                        f"{', '.join((vm['name'] for vm in vms_on))}")
    if members.unreadable:
        blockers.append(f"{len(members.unreadable)} member(s) or subscription(s) could not be read, and may hold the "
                        f"group: {', '.join((e.resource_id for e in members.unreadable))}")
    if group.reservations:
        blockers.append(f"{len(group.reservations)} capacity reservation(s) must be deleted first, once nothing is "
                        f"associated: {', '.join((r.name for r in group.reservations))}")
    return {
        'capacityReservationGroup': group.id,
        'name': resource_name(group.id),
        'location': group.location,
        'zones': list(group.zones),
        'reservationType': group.reservation_type,
        'sharedWith': list(members.shared_with),
        'reservations': [reservation_entry(r) for r in group.reservations],
        'scaleSets': scale_sets,
        'virtualMachines': vms,
        'unreadable': [read_error_entry(e) for e in members.unreadable],
        'summary': {'scaleSets': len(on_group), 'virtualMachines': len(vms_on),
                    'reservations': len(group.reservations), 'unreadable': len(members.unreadable)},
        'deletable': not blockers,
        'blockers': blockers,
        'unfinishedRun': record.to_dict() if record is not None else None,
        'nextAction': _next_action(group, on_group or vms_on or members.unreadable, record),
    }


def _scale_set_status(snapshot, record, group_id):
    status = build_status(snapshot, record)
    ss = snapshot.scale_set
    return dict(status, name=ss.name, resourceGroup=ss.resource_group,
                modelOnGroup=same_id(ss.model_group_id, group_id),
                instancesOnGroup=sum(1 for i in snapshot.instances if same_id(i.group_id, group_id)))


def _vm_status(instance):
    return {'name': instance.name, 'id': instance.id, 'resourceGroup': _parse(instance.id)['resource_group'],
            'powerState': instance.power_state, 'size': instance.size, 'zone': instance.zone,
            'capacityReservationGroup': instance.group_id}


def delete_commands(group):
    rg, name = _parse(group.id)['resource_group'], resource_name(group.id)
    return [RESERVATION_COMMAND.format(rg, name, r.name) for r in group.reservations] + [GROUP_COMMAND.format(rg, name)]


def _next_action(group, occupied, record):
    rg, name = _parse(group.id)['resource_group'], resource_name(group.id)
    detach = f'az vmss capacity-reservation detach -g {rg} --crg {name} --yes'
    if record is not None:
        return (f'A group-wide {record.describe()} run did not finish: run {detach} to finish it (it starts again what '
                'it stopped).')
    if occupied:
        return f'{detach} (add --delete-group to delete the reservations and the group too)'
    return f"Nothing is on the group; delete it with: {'; '.join(delete_commands(group))}"


# --- the group-wide detach -------------------------------------------------------------------------
def plan_group(group, snapshots, intent, restores):
    """Pure: one plan per unit, and the steps that come first for the whole group. With zero-capacity the
    reservations go to 0 once for every unit (so no unit sets them itself), and the units need no --force for
    one another: every machine on the group is in this plan."""
    zero = intent.strategy == p.ZERO_CAPACITY_STRATEGY
    unit_intent = replace(intent, force=True) if zero else intent
    plans = [p.make_plan(s, replace(unit_intent, restore=frozenset(r))) for s, r in zip(snapshots, restores)]
    if not zero:
        return (), plans
    plans = [p.Plan(tuple(s for s in plan.steps if s.action != p.SET_CAPACITY), plan.restore, plan.warnings)
             for plan in plans]
    if all(plan.is_noop() for plan in plans):
        return (), plans
    reason = (f'{p.DETACH_DOC}, option 2, step 1: an allocated VM may leave its reservation only at capacity 0; set '
              'once for every member of the group')
    return tuple(p.Step(p.SET_CAPACITY, (r.id,), reason, capacity=0) for r in group.reservations if r.capacity), plans


def group_journal(cmd, group_id):
    return Journal(cmd.cli_ctx.config.config_dir, group_id, name=f"capacityreservationgroup.{resource_name(group_id)}")


def detach_group(cmd, client, group_id, intent, *, concurrency, dry_run, yes,  # pylint: disable=too-many-locals
                 delete_group):
    clients = Clients(cmd, client)
    timeout = 0 if dry_run else cmd.cli_ctx.config.getint('vmsscrg', 'settle_timeout', fallback=SETTLE_TIMEOUT)
    journal = group_journal(cmd, group_id)
    record = usable_record(journal, intent)
    again = _finish_command(group_id, intent, delete_group)

    def read():
        members = survey_group(clients, group_id, record.members if record else ())
        if members.unreadable:
            raise ValidationError(
                f"Cannot detach everything from group {resource_name(group_id)}: {len(members.unreadable)} member(s) "
                "or subscription(s) could not be read: "
                f"{'; '.join(f'{e.resource_id} ({e.message})' for e in members.unreadable[:5])}.",
                recommendation='Get read access to them (or detach them from their own subscription), then run '
                               'this command again.')
        surveys = [scale_set_survey(clients, s) for s in members.scale_sets]
        surveys += standalone_snapshots(clients, members.group, members.vms)
        return members, surveys

    def planned(members, surveys, snapshots=None):
        snapshots = [s for s in snapshots or [s() for s in surveys] if not _moved_elsewhere(s, group_id)]
        journals = [None if s.scale_set.member_ids else Journal(cmd.cli_ctx.config.config_dir, s.scale_set.id)
                    for s in snapshots]
        records = [usable_record(j, intent) if j else None for j in journals]
        restores = [r.running if r else _standalone_restore(record, s) for r, s in zip(records, snapshots)]
        first, plans = plan_group(members.group, snapshots, intent, restores)
        return first, [Unit(s, pl, replace(intent, restore=frozenset(r)), j, rec)
                       for s, pl, r, j, rec in zip(snapshots, plans, restores, journals, records)]

    members, surveys = read()
    snapshots = [wait_until_settled(s, timeout) if not dry_run else s() for s in surveys]
    first, units = planned(members, surveys, snapshots)
    busy = [u for u in units if not u.plan.is_noop()]
    for unit in busy:
        autoscale = () if unit.standalone else autoscale_warnings(cmd, unit.snapshot.scale_set)
        for warning in unit.plan.warnings + autoscale:
            logger.warning('%s', warning)
    if dry_run or not busy:
        if not busy and not dry_run:
            for unit in units:
                if unit.journal:
                    unit.journal.clear()
            journal.clear()
            logger.warning('Nothing to detach: no scale set or virtual machine is on group %s.',
                           resource_name(group_id))
        deleted = _delete_group(clients, members.group) if delete_group and not dry_run else False
        after = _status_of(members, units) if dry_run else None if deleted else _status_after(cmd, clients, group_id)
        return _result(intent, group_id, first, units, members, dry_run=dry_run, deleted=deleted, status=after)
    ask = prompting(cmd.cli_ctx, yes)
    if ask:
        ask_to_continue(_summary(members.group, first, units, delete_group))
        members, surveys = read()
        first_now, units_now = planned(members, surveys)
        if _steps(first_now, units_now) != _steps(first, units):
            ask_to_continue("The group changed since the plan was "
                            f"shown.\n{_summary(members.group, first_now, units_now, delete_group)}")
        first, units = first_now, units_now
        busy = [u for u in units if not u.plan.is_noop()]

    recorder = _Recorder(journal, _group_record(record, intent, units))
    at_once = max(1, cmd.cli_ctx.config.getint('vmsscrg', 'group_concurrency', fallback=GROUP_CONCURRENCY))
    done = _execute(clients, busy, first, concurrency=concurrency, at_once=at_once, recorder=recorder, again=again,
                    progress=Progress(cmd.cli_ctx))
    for unit in units:
        verify(_reread(clients, unit), unit.intent, unit.plan, again)
        if unit.journal is not None:
            unit.journal.clear()
    journal.clear()
    deleted = _delete_group(clients, members.group) if delete_group else False
    steps = [dict(s, target=resource_name(group_id)) for s in done.get('group', [])]
    for unit in busy:
        steps += [dict(s, target=unit.label) for s in done.get(unit.snapshot.scale_set.id, [])]
    return _result(intent, group_id, first, units, members, dry_run=False, deleted=deleted,
                   status=None if deleted else _status_after(cmd, clients, group_id), steps=steps)


def _group_record(record, intent, units):
    """The group's record: every scale set and standalone VM the run covers, and the standalone VMs to restore."""
    standalone = [(u, i) for u in units if u.standalone for i in u.snapshot.instances]
    running = frozenset(i.id for u, i in standalone if p.member_key(i) in u.plan.restore)
    return Record('detach', None, record.started if record else new_record(intent, ()).started,
                  running=running | (record.running if record else frozenset()),
                  deallocated=record.deallocated if record else frozenset(),
                  members=frozenset(u.snapshot.scale_set.id for u in units if not u.standalone) | frozenset(
                      i.id for _, i in standalone))


class _Recorder:  # pylint: disable=too-few-public-methods
    """Writes the journals before each deallocation: a scale set's own, or the group's for standalone VMs."""

    def __init__(self, journal, record):
        self.journal = journal
        self.record = record
        self.lock = threading.Lock()
        journal.save(record)

    def on_deallocate(self, unit):
        earlier = unit.record.deallocated if unit.record else frozenset()
        if unit.journal is not None:  # a scale set's own journal, as a single run keeps it
            started = unit.record.started if unit.record else None
            return journal_recorder(unit.journal, new_record(unit.intent, unit.plan.restore, started), earlier)

        def save(keys, **_):  # standalone VMs: the group's journal
            ids = frozenset(i.id for i in unit.snapshot.instances if p.member_key(i) in keys)
            with self.lock:
                self.record = replace(self.record, deallocated=self.record.deallocated | ids)
                self.journal.save(self.record)
        return save


def _execute(clients, busy, first, *, concurrency, at_once, recorder, again,  # pylint: disable=too-many-locals
             progress):
    """The group's steps, then the units `at_once` at a time; on any failure or interruption, every unit starts
    again what it took down that was running before the error is raised. `progress`: one line per step of each
    unit, named after it."""
    executors = {u.snapshot.scale_set.id: Executor(clients.of(_real_id(u)), u.snapshot, concurrency=concurrency,
                                                   progress=progress.part(u.snapshot.scale_set.name))
                 for u in busy}

    def run_unit(unit):  # its progress says which steps run
        return executors[unit.snapshot.scale_set.id].run(unit.plan.steps, on_deallocate=recorder.on_deallocate(unit))

    done = {}
    with interruptible():
        try:
            if first:
                group_id = busy[0].snapshot.group.id
                done['group'] = Executor(clients.of(group_id), busy[0].snapshot, concurrency=concurrency,
                                         progress=progress.part(f'group {resource_name(group_id)}')).run(first)
            done.update(_run_all(busy, run_unit, executors, at_once))
        except StepFailed as ex:
            _compensate_all(busy, executors)
            unit = next((u for u in busy if ex.step in u.plan.steps), busy[0])
            raise failure(ex, read_or_none(partial(_reread, clients, unit)), unit.intent, again) from ex
        except (KeyboardInterrupt, Cancelled) as ex:
            logger.warning('Interrupted: stopping; press Ctrl-C again to abort at once (the journal is kept).')
            _compensate_all(busy, executors)
            raise ManualInterrupt('Interrupted: no new work was started, the operations Azure had accepted were '
                                  'waited for, and the members this run deallocated that were running were started '
                                  'again.\n' + '\n'.join(
                                      f'{u.label}: {executors[u.snapshot.scale_set.id].progress.stopped()} '
                                      f'{where(read_or_none(partial(_reread, clients, u)), u.intent)}'
                                      for u in busy),
                                  recommendation=f"To finish the job, run: {again}") from ex
        except Exception:
            _compensate_all(busy, executors)
            raise
    return done


def _run_all(units, run_unit, executors, at_once):
    """Run the units `at_once` at a time; the first failure (or an interruption) stops the others."""
    results = {}
    pool = ThreadPoolExecutor(max_workers=min(at_once, len(units)))
    futures = {pool.submit(run_unit, unit): unit for unit in units}
    try:
        pending = set(futures)
        while pending:  # short waits: the main thread must stay able to take Ctrl-C and SIGTERM
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if any(f.exception() for f in finished):
                break
    except BaseException:
        _stop(executors)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
    if errors:
        _stop(executors)
    pool.shutdown(wait=True, cancel_futures=True)
    errors = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
    failed = [e for e in errors if isinstance(e, StepFailed) and e.kind != TRANSIENT] or \
        [e for e in errors if not isinstance(e, Cancelled)] or errors
    if failed:
        raise failed[0]
    for future, unit in futures.items():
        results[unit.snapshot.scale_set.id] = future.result()
    return results


def _stop(executors):
    for executor in executors.values():
        executor.stopping.set()


def _compensate_all(units, executors):
    """Start again, unit by unit in parallel, what each took down that was running."""
    todo = [u for u in units if executors[u.snapshot.scale_set.id].taken_down]
    if not todo:
        return
    with ThreadPoolExecutor(max_workers=min(GROUP_CONCURRENCY, len(todo))) as pool:
        list(pool.map(lambda u: compensate(executors[u.snapshot.scale_set.id], u.plan), todo))


def _reread(clients, unit):
    ss = unit.snapshot.scale_set
    if unit.standalone:
        instances = tuple(i for i in read_vms(clients.of(ss.member_ids[0]), ss.member_ids)
                          if not i.group_id or same_id(i.group_id, unit.snapshot.group.id))
        return Snapshot(ss, instances, unit.snapshot.group)
    return scale_set_survey(clients, ss.id)()


def _moved_elsewhere(snapshot, group_id):
    """A scale set an unfinished run took off the group that is now on another group only: not ours to touch."""
    held = [snapshot.scale_set.model_group_id] + [i.group_id for i in snapshot.instances]
    if any(same_id(g, group_id) for g in held) or not any(held):
        return False
    logger.warning('Scale set %s is now on another capacity reservation group: left alone.', snapshot.scale_set.name)
    return True


def _real_id(unit):
    ss = unit.snapshot.scale_set
    return ss.member_ids[0] if ss.member_ids else ss.id


def _standalone_restore(record, snapshot):
    """Standalone VMs an interrupted run found running, by the names the plan uses."""
    if record is None or not snapshot.scale_set.member_ids:
        return frozenset()
    ours = {normalize_id(i.id): p.member_key(i) for i in snapshot.instances}
    return frozenset(ours[normalize_id(vm)] for vm in record.running if normalize_id(vm) in ours)


def _steps(first, units):
    return tuple(first), tuple(u.plan.steps for u in units)


def _summary(group, first, units, delete_group):
    lines = [f'This will detach everything from capacity reservation group {resource_name(group.id)}:']
    for step in first:
        lines.append(f'  - set reservation {resource_name(step.targets[0])} to capacity 0: it no longer guarantees '
                     'capacity to anyone')
    for unit in units:
        if not unit.plan.is_noop():
            ss = unit.snapshot.scale_set
            what = unit.label if unit.standalone else (f'{unit.label} ({ss.orchestration_mode}, {ss.upgrade_mode} '
                                                       'upgrade policy)')
            details = summary(unit.snapshot, unit.intent, unit.plan).split('\n')[1:]
            lines.append('  {}:\n{}'.format(what, '\n'.join(f"  {line}" for line in details)))
    if delete_group:
        lines.append(f'Then delete its {len(group.reservations)} reservation(s) and the group itself.')
    return '\n'.join(lines)


def _finish_command(group_id, intent, delete_group):
    return ' '.join(['az vmss capacity-reservation detach --crg', group_id] + intent_options(intent) +
                    (['--delete-group'] if delete_group else []) + ['--yes'])


def _status_after(cmd, clients, group_id):
    return group_status(cmd, clients.client, group_id)


def _status_of(members, units):
    scale_sets = [_scale_set_status(u.snapshot, u.record, members.group.id) for u in units if not u.standalone]
    vms = [_vm_status(i) for u in units if u.standalone for i in u.snapshot.instances]
    return build_group_status(members, scale_sets, vms)


def _result(intent, group_id, first, units, members, *, dry_run, deleted, status, steps=None):
    if steps is None:
        steps = [dict(s.to_dict(), target=resource_name(group_id)) for s in first] if dry_run else []
        if dry_run:
            steps += [dict(s.to_dict(), target=u.label) for u in units for s in u.plan.steps]
    disruption = {'instancesDeallocated': sum(len(u.plan.deallocated()) for u in units),
                  'instancesStartedAgain': sum(u.plan.disruption()['instancesStartedAgain'] for u in units),
                  'reservationsSetToZero': [s.targets[0] for s in first]}
    return {'action': 'detach', 'capacityReservationGroup': group_id, 'strategy': intent.strategy,
            'dryRun': dry_run, 'steps': steps, 'disruption': disruption,
            'warnings': [w for u in units for w in u.plan.warnings],
            'deleteCommands': delete_commands(members.group), 'groupDeleted': deleted, 'status': status}


# --- deleting the group ----------------------------------------------------------------------------
def _delete_group(clients, group, sleep=time.sleep, clock=time.monotonic):
    """Delete every reservation, then the group, and read back that they are gone."""
    from azure.core.exceptions import ResourceNotFoundError as Gone
    from ._lro import polling
    client = clients.of(group.id)
    rg, name = _parse(group.id)['resource_group'], resource_name(group.id)
    for reservation in group.reservations:
        _retry_delete(lambda r=reservation: client.capacity_reservations.begin_delete(
            rg, name, r.name, polling=polling()).result(), f"Deleting reservation {reservation.name}", sleep, clock)
        try:
            client.capacity_reservations.get(rg, name, reservation.name)
            raise AzureResponseError(f'Reservation {reservation.name} still exists after it was deleted.',
                                     recommendation=f"Run: {RESERVATION_COMMAND.format(rg, name, reservation.name)}")
        except Gone:
            pass
    _retry_delete(lambda: client.capacity_reservation_groups.delete(rg, name), f"Deleting group {name}", sleep, clock)
    try:
        client.capacity_reservation_groups.get(rg, name)
    except Gone:
        logger.warning('Deleted capacity reservation group %s and its %d reservation(s).', name,
                       len(group.reservations))
        return True
    raise AzureResponseError(f'Group {name} still exists after it was deleted.',
                             recommendation=f"Run: {GROUP_COMMAND.format(rg, name)}")


def _retry_delete(delete, what, sleep, clock):
    """A delete right after the detach may be refused while Azure still lists the associations (or the group
    its reservations): such refusals, and transient failures, are tried again for up to DELETE_SECONDS."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError as Gone
    deadline = clock() + DELETE_SECONDS
    delay = DELETE_POLL_FIRST
    while True:
        try:
            delete()
            return
        except Gone:
            return
        except HttpResponseError as ex:
            lagging = (error_code(ex) or '').lower() in LAGGING_CODES or classify(ex) == TRANSIENT
            if not lagging or clock() > deadline:
                raise AzureResponseError(f'{what} failed: {describe(ex)}',
                                         recommendation='Once nothing is associated with the group, run the delete '
                                                        'commands that detach --crg prints.') from ex
            logger.warning('%s: %s; trying again in %.0f s', what, describe(ex), delay)
            sleep(delay)
            delay = min(delay * 2, DELETE_POLL_MAX)


def _parse(resource_id):
    from azure.mgmt.core.tools import parse_resource_id
    return parse_resource_id(resource_id)
