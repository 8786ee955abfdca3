# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What attach and detach return, and the errors that say where each member stands and how to finish."""
from azure.cli.core.azclierror import AzureResponseError, ManualInterrupt, ValidationError

from . import plan as p
from .failures import CAPACITY, TRANSIENT
from .snapshot import ATTACHED, DETACHED, association_state, resource_name, same_id

MEMBERS_LISTED = 20


def finish_command(scale_set, intent):
    """The command that finishes an interrupted or failed run: the same command again."""
    parts = ['az vmss capacity-reservation', intent.action, '-g', scale_set.resource_group, '-n', scale_set.name]
    if intent.action == 'attach':
        parts += ['--crg', intent.group_id]
    return ' '.join(parts + intent_options(intent) + ['--yes'])


def intent_options(intent):
    """The options that repeat the intent's choices (the same command again asks for the same thing)."""
    parts = []
    if intent.strategy != p.DEALLOCATE_STRATEGY:
        parts += ['--strategy', intent.strategy]
    if intent.leave_deallocated:
        parts.append('--leave-deallocated')
    if intent.max_unavailable != p.DEFAULT_MAX_UNAVAILABLE:
        parts += ['--max-unavailable', str(intent.max_unavailable)]
    if intent.force:
        parts.append('--force')
    return parts


def result(intent, plan, status, *, steps=None, plan_steps=False, dry_run=False, previous=()):
    """`previous`: (reservation id, capacity) each reservation had before zero-capacity set it to 0."""
    out = {'action': intent.action, 'scaleSet': status['scaleSet'], 'strategy': intent.strategy,
           'dryRun': dry_run, 'steps': [s.to_dict() for s in plan.steps] if plan_steps else steps or [],
           'disruption': plan.disruption(), 'warnings': list(plan.warnings), 'status': status}
    if intent.action == 'attach':
        out['capacityReservationGroup'] = intent.group_id
    previous = previous or previous_capacities(plan)
    if previous:
        out['capacityToGiveBack'] = give_back(previous)
    return out


def previous_capacities(plan):
    """(reservation id, capacity before) of each reservation the plan sets to 0."""
    return tuple((r, s.previous) for s in plan.steps if s.action == p.SET_CAPACITY and s.previous is not None
                 for r in s.targets)


def give_back(previous):
    """Each reservation zero-capacity set to 0: its previous capacity and the command that gives it back."""
    out = []
    for reservation_id, capacity in previous:
        parts = reservation_id.strip('/').split('/')
        out.append({'reservation': reservation_id, 'previousCapacity': capacity,
                    'command': (f'az capacity reservation update -g {parts[3]} -c {parts[7]} -n {parts[9]} --capacity '
                                f'{capacity}')})
    return out


def verify(snapshot, intent, plan, again):
    """The end state read back: the intended association everywhere, and every member to restore running."""
    expected = DETACHED if intent.action == 'detach' else ATTACHED
    state = association_state(snapshot, intent.group_id)
    problems = []
    if state != expected:
        problems.append(f'its state is {state} instead of {expected}')
    power = {p.member_key(i): i.power_state for i in snapshot.instances}
    down = [k for k in plan.restore if k in power and power[k] not in p.RESTARTED]
    if down:
        problems.append(f'{len(down)} member(s) that were running are not: {p.listed(down)}')
    if problems:
        raise AzureResponseError("Every step succeeded, but reading the scale set back shows that "
                                 f"{'; '.join(problems)}.",
                                 recommendation=f"Run the same command again to finish: {again}")


def where(snapshot, intent):
    """Each member's power state and group, in one line per member (the first MEMBERS_LISTED)."""
    if snapshot is None:
        return 'Its state could not be read; see az vmss capacity-reservation status.'
    lines = []
    for i in snapshot.instances[:MEMBERS_LISTED]:
        on = resource_name(i.group_id) if i.group_id else 'no group'
        moved = same_id(i.group_id, intent.group_id) if intent.action == 'attach' else not i.group_id
        lines.append(f"  {i.name}: {i.power_state or 'unknown power state'}, on "
                     f"{on}{'' if moved else ' (not moved yet)'}")
    more = len(snapshot.instances) - MEMBERS_LISTED
    if more > 0:
        lines.append(f'  ... and {more} more (az vmss capacity-reservation status lists them all)')
    model = ''
    if snapshot.scale_set.has_vm_profile:
        model = f" The scale set's model is on {resource_name(snapshot.scale_set.model_group_id) or 'no group'}."
    return 'Each member now:{}\n{}'.format(model, '\n'.join(lines))


def failure(error, snapshot, intent, again, returned=None):
    """A step that could not succeed, after compensation: what failed, where each member is, what to do."""
    message = (f'Step {error.step.action} ({len(error.step.targets)} target(s)) failed: '
               f'{error}\n{where(snapshot, intent)}')
    if error.kind == TRANSIENT:
        return AzureResponseError(message, recommendation=("Azure may succeed later: run the same command again to "
                                                           f"finish the job: {again}"))
    if error.kind == CAPACITY:
        return no_capacity(error, snapshot, intent, again, returned or {})
    return ValidationError(message, recommendation=("Azure refused this request, and would again: fix what the error "
                                                    f"names first, then finish with: {again}"))


def no_capacity(error, snapshot, intent, again, returned):
    """Azure had no capacity to start members (after retrying for vmsscrg.allocation_retry_timeout): the run ends
    partial, with the members that could not start back on the group they came from."""
    state = association_state(snapshot, intent.group_id) if snapshot is not None else 'unknown'
    lines = [f'Partial: the {intent.action} is not done, the scale set is {state}. Azure has no capacity to start '
             f'{len(error.step.targets)} member(s) without a reservation now: {error}']
    if returned:
        groups = sorted({resource_name(g) for g in returned.values() if g})
        lines.append(f"{len(returned)} member(s) were brought back to group {', '.join(groups)}, whose reservation "
                     f"still holds their capacity, and started there: {', '.join(sorted(returned)[:MEMBERS_LISTED])}")
    lines.append(where(snapshot, intent))
    advice = ("This is not fixed by running again at once: on-demand capacity for this size is short in this region "
              f"or zone. Try again later: {again}")
    if intent.action == 'detach' and intent.strategy == p.DEALLOCATE_STRATEGY:
        advice += ("; or, if no other virtual machine uses the group, move the members without a restart: "
                   f"{again.replace(' --yes', f' --strategy {p.ZERO_CAPACITY_STRATEGY} --yes')}")
    return AzureResponseError('\n'.join(lines), recommendation=advice)


def interrupted(snapshot, intent, again, done=''):
    """`done`: what the run did before it stopped (Progress.stopped())."""
    return ManualInterrupt((done + ' No' if done else 'Interrupted: no') + ' new work was started, the operations '
                           'Azure had accepted were waited for, and the members this run deallocated that were running '
                           'were started again.\n' + where(snapshot, intent),
                           recommendation=f"To finish the job, run: {again}")
