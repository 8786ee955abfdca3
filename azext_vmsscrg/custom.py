from dataclasses import replace
from functools import partial

from knack.log import get_logger

from ._client_factory import cf_compute_for_subscription
from .inspect import SETTLE_TIMEOUT, inspect_scale_set, wait_until_settled
from .journal import Journal
from .plan import DEFAULT_MAX_UNAVAILABLE, DEALLOCATE_STRATEGY, Intent, make_plan
from .execute import DEFAULT_CONCURRENCY, Executor, StepFailed
from .outcome import confirm, failure, finish_command, result, verify
from .status import build_status

logger = get_logger(__name__)


def show_status(cmd, client, resource_group_name, vm_scale_set_name):
    result = build_status(_inspect(cmd, client, resource_group_name, vm_scale_set_name))
    for reservation in result['reservations']:
        if reservation['overallocated']:
            logger.warning("Capacity reservation %s is overallocated: %s virtual machines allocated for a capacity "
                           "of %s. Azure gives the excess no capacity guarantee.",
                           reservation['name'], reservation['allocated'], reservation['capacity'])
    return result


def detach(cmd, client, resource_group_name, vm_scale_set_name, strategy=DEALLOCATE_STRATEGY,
           leave_deallocated=False, max_unavailable=DEFAULT_MAX_UNAVAILABLE, concurrency=DEFAULT_CONCURRENCY,
           force=False, dry_run=False, yes=False):
    # str()/int(): the CLI passes defaults as marked subclasses, which would serialise as {"isDefault": true}
    intent = Intent('detach', strategy=str(strategy), leave_deallocated=bool(leave_deallocated),
                    max_unavailable=int(max_unavailable), force=bool(force))
    return _move(cmd, client, resource_group_name, vm_scale_set_name, intent, _count(concurrency), dry_run, yes)


def attach(cmd, client, resource_group_name, vm_scale_set_name, capacity_reservation_group,
           leave_deallocated=False, max_unavailable=DEFAULT_MAX_UNAVAILABLE, concurrency=DEFAULT_CONCURRENCY,
           dry_run=False, yes=False):
    intent = Intent('attach', group_id=capacity_reservation_group, leave_deallocated=bool(leave_deallocated),
                    max_unavailable=int(max_unavailable))
    return _move(cmd, client, resource_group_name, vm_scale_set_name, intent, _count(concurrency), dry_run, yes)


def _count(concurrency):
    """--concurrency, or None: as many as a step's batch has members, up to the cap (execute.py)."""
    return None if concurrency is None else int(concurrency)


def _inspect(cmd, client, resource_group_name, vm_scale_set_name, target_group_id=None):
    return inspect_scale_set(client, resource_group_name, vm_scale_set_name,
                             client_for_subscription=partial(cf_compute_for_subscription, cmd.cli_ctx),
                             target_group_id=target_group_id)


def _move(cmd, client, resource_group_name, vm_scale_set_name, intent, concurrency, dry_run, yes):
    """Inspect, plan, confirm, execute, verify. Re-running after any interruption recomputes the plan."""
    snapshot = wait_until_settled(
        lambda: _inspect(cmd, client, resource_group_name, vm_scale_set_name, intent.group_id),
        0 if dry_run else cmd.cli_ctx.config.getint('vmsscrg', 'settle_timeout', fallback=SETTLE_TIMEOUT))
    journal = Journal(cmd.cli_ctx.config.config_dir, snapshot.scale_set.id)
    intent = replace(intent, restore=journal.load())
    plan = make_plan(snapshot, intent)
    for warning in plan.warnings:
        logger.warning('%s', warning)
    if dry_run or plan.is_noop():
        if plan.is_noop() and not dry_run:
            journal.clear()
            logger.warning('Nothing to do: the scale set is already %s.',
                           'detached' if intent.action == 'detach' else 'attached to this group')
        return result(intent, plan, plan_steps=True, status=build_status(snapshot), dry_run=dry_run)
    confirm(snapshot, intent, plan, yes)
    again = finish_command(snapshot.scale_set, intent)
    hook = cmd.cli_ctx.get_progress_controller(det=True)
    try:
        done = Executor(client, snapshot, concurrency, progress=hook).run(
            plan.steps, before_disruption=lambda: journal.save(intent.action, plan.restore))
    except StepFailed as ex:
        raise failure(ex, lambda: build_status(_inspect(cmd, client, resource_group_name, vm_scale_set_name)),
                      again) from ex
    finally:
        hook.end()
    status = build_status(_inspect(cmd, client, resource_group_name, vm_scale_set_name))
    verify(status, intent, plan, again)
    journal.clear()
    return result(intent, plan, steps=done, status=status)
