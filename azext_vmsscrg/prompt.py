# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The one confirmation attach and detach ask for, and the second one when Azure changed in between."""
from azure.cli.core.azclierror import ManualInterrupt, NoTTYError

from .plan import describe, listed
from .snapshot import resource_name

STEPS_LISTED = 20


def prompting(cli_ctx, yes):
    """Whether the command asks: not with --yes, nor with `az config set core.disable_confirm_prompt=true`."""
    return not yes and not cli_ctx.config.getboolean('core', 'disable_confirm_prompt', fallback=False)


def confirm(snapshot, intent, plan, ask, prefix=''):
    """One prompt summarising the disruption; without a terminal, --yes is required."""
    if not ask:
        return
    ask_to_continue(prefix + summary(snapshot, intent, plan))


def ask_to_continue(text):
    """Show `text` and ask; no answer (or no terminal) changes nothing."""
    from knack.prompting import NoTTYException, prompt_y_n
    message = text + '\nDo you want to continue?'
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
    lines = [f'This will {intent.action} scale set {scale_set.name} ({scale_set.orchestration_mode}, '
             f'{scale_set.upgrade_mode} upgrade policy) {target}:']
    disruption = plan.disruption()
    if disruption['instancesDeallocated']:
        lines.append(f"  - deallocate {disruption['instancesDeallocated']} instance(s), at most {plan.largest_batch()} "
                     "at once: each is unavailable from its deallocation until it is started "
                     f"again{'' if plan.restore else ' (they are left deallocated)'}")
    if disruption['instancesStartedWithoutReservation']:
        lines.append(f"  - start {disruption['instancesStartedWithoutReservation']} of them again without a capacity "
                     "reservation guarantee: if Azure has no capacity for them then, they go back to the group they "
                     "came from and the command ends not done")
    left = disruption['instancesLeftDeallocated']
    if left and plan.restore:
        lines.append(f'  - {len(left)} member(s) that are stopped but allocated ({listed(left)}) must be deallocated '
                     'to move and are left deallocated: they were not running')
    for reservation in disruption['reservationsSetToZero']:
        lines.append(f'  - set reservation {resource_name(reservation)} to capacity 0: it no longer guarantees '
                     'capacity to anyone')
    lines.append(f'The {len(plan.steps)} step(s), in order:')
    lines += [f'  {n}. {describe(step)}' for n, step in enumerate(plan.steps[:STEPS_LISTED], 1)]
    if len(plan.steps) > STEPS_LISTED:
        lines.append(f'  ... and {len(plan.steps) - STEPS_LISTED} more (--dry-run lists them all)')
    return '\n'.join(lines)


def changes(first, second):
    """What differs between the plan confirmed and the plan made from a fresh read, in words ('' if nothing)."""
    if first.steps == second.steps:
        return ''
    lines = ['The scale set changed since the plan was shown:']
    gone, new = set(first.deallocated()) - set(second.deallocated()), set(second.deallocated()) - set(
        first.deallocated())
    if new:
        lines.append('  - now also deallocates: ' + ', '.join(sorted(new)))
    if gone:
        lines.append('  - no longer deallocates: ' + ', '.join(sorted(gone)))
    lines.append(f'  - {len(second.steps)} step(s) instead of {len(first.steps)}')
    return '\n'.join(lines) + '\n'
