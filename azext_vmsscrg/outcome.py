"""What attach and detach say: the confirmation, the result object, and the errors that tell how to finish."""
from azure.cli.core.azclierror import AzureResponseError, ManualInterrupt, NoTTYError

from . import plan as p
from .snapshot import resource_name


def confirm(snapshot, intent, plan, yes):
    """One prompt summarising the disruption; --yes skips it; without a terminal, --yes is required."""
    if yes:
        return
    from knack.prompting import NoTTYException, prompt_y_n
    message = summary(snapshot, intent, plan) + '\nDo you want to continue?'
    try:
        if not prompt_y_n(message, default='n'):
            raise ManualInterrupt('Operation cancelled: nothing was changed.')
    except NoTTYException as ex:
        raise NoTTYError('This command changes the scale set and needs confirmation, but there is no terminal to '
                         'ask on.', recommendation='Add --yes to run it without asking, or --dry-run to see the '
                                                   'plan.') from ex


def summary(snapshot, intent, plan):
    scale_set = snapshot.scale_set
    target = 'to group ' + resource_name(intent.group_id) if intent.action == 'attach' else \
        'from its capacity reservation group'
    lines = ['This will {} scale set {} ({}, {} upgrade policy) {}:'.format(
        intent.action, scale_set.name, scale_set.orchestration_mode, scale_set.upgrade_mode, target)]
    disruption = plan.disruption()
    if disruption['instancesDeallocated']:
        lines.append('  - deallocate {} instance(s): each is unavailable from its deallocation until it is started '
                     'again{}'.format(disruption['instancesDeallocated'],
                                      '' if plan.restore else ' (they are left deallocated)'))
    for reservation in disruption['reservationsSetToZero']:
        lines.append('  - set reservation {} to capacity 0: it no longer guarantees capacity to anyone'.format(
            resource_name(reservation)))
    lines.append('  - {} step(s) in all: {}'.format(len(plan.steps), ', '.join(
        sorted({step.action for step in plan.steps}))))
    return '\n'.join(lines)


def finish_command(scale_set, intent):
    """The command that finishes an interrupted or failed run: the same command again."""
    parts = ['az vmss capacity-reservation', intent.action, '-g', scale_set.resource_group, '-n', scale_set.name]
    if intent.action == 'attach':
        parts += ['--crg', intent.group_id]
    if intent.strategy != p.DEALLOCATE_STRATEGY:
        parts += ['--strategy', intent.strategy]
    if intent.leave_deallocated:
        parts.append('--leave-deallocated')
    if intent.max_unavailable != p.DEFAULT_MAX_UNAVAILABLE:
        parts += ['--max-unavailable', str(intent.max_unavailable)]
    if intent.force:
        parts.append('--force')
    return ' '.join(parts + ['--yes'])


def result(intent, plan, status, steps=None, plan_steps=False, dry_run=False):
    out = {'action': intent.action, 'scaleSet': status['scaleSet'], 'strategy': intent.strategy,
           'dryRun': dry_run, 'steps': [s.to_dict() for s in plan.steps] if plan_steps else steps or [],
           'disruption': plan.disruption(), 'warnings': list(plan.warnings), 'status': status}
    if intent.action == 'attach':
        out['capacityReservationGroup'] = intent.group_id
    return out


def verify(status, intent, plan, again):
    """The end state read back: the intended association everywhere, and every member to restore running."""
    expected = 'detached' if intent.action == 'detach' else 'attached'
    problems = []
    if status['state'] != expected:
        problems.append('its state is {} instead of {}'.format(status['state'], expected))
    power = {_key(i): i['powerState'] for i in status['instances']}
    down = [k for k in plan.restore if power.get(k) not in ('running', 'starting')]
    if down:
        problems.append('{} member(s) that were running are not: {}'.format(len(down), ', '.join(down[:10])))
    if problems:
        raise AzureResponseError('Every step succeeded, but reading the scale set back shows that {}.'.format(
            '; '.join(problems)), recommendation='Run the same command again to finish: ' + again)


def failure(error, read_status, again):
    """The error for a step that could not succeed: what failed, where the scale set stands, how to finish."""
    try:
        status = read_status()
        where = 'The scale set is now {}: {} of {} instance(s) on a group, {} out of sync with the model.'.format(
            status['state'], status['summary']['associated'], status['summary']['instances'],
            status['summary']['outOfSync'])
        down = [i['name'] for i in status['instances'] if i['powerState'] not in ('running', 'starting')]
        if down:
            where += ' Not running: {}.'.format(', '.join(down[:10]) + (' ...' if len(down) > 10 else ''))
    except Exception:  # pylint: disable=broad-except
        where = 'Its state could not be read; see az vmss capacity-reservation status.'
    return AzureResponseError('Step {} ({}{}) failed: {} {}'.format(
        error.step.action, len(error.step.targets), ' target(s)', error, where),
        recommendation='Run the same command again to finish the job (it resumes from what Azure reports, and '
                       'starts again what was running): ' + again)


def _key(instance):
    return instance['instanceId'] if instance.get('instanceId') is not None else instance['name']
