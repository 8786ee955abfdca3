# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from functools import partial

from knack.log import get_logger

from ._client_factory import cf_compute_for_subscription
from .survey import inspect_scale_set
from .journal import Journal
from .plan import DEFAULT_MAX_UNAVAILABLE, DEALLOCATE_STRATEGY, Intent
from .execute import DEFAULT_CONCURRENCY
from .run import move
from .status import build_status, unlisted

logger = get_logger(__name__)


def show_status(cmd, client, resource_group_name=None, vm_scale_set_name=None, capacity_reservation_group=None):
    if capacity_reservation_group:  # the whole group (group.py); the validator made it an id
        from .group import group_status
        return group_status(cmd, client, capacity_reservation_group)
    snapshot = _inspect(cmd, client, resource_group_name, vm_scale_set_name)
    record = Journal(cmd.cli_ctx.config.config_dir, snapshot.scale_set.id).load()
    status = build_status(snapshot, record)
    behind = unlisted(snapshot)
    if behind:
        logger.warning("The group's list of associated machines does not agree yet with %d member(s) (%s): Azure "
                       "updates it some time after a change, so its counts may lag; read status again shortly.",
                       len(behind), ', '.join(behind[:10]))
    for reservation in status['reservations']:
        if reservation['overallocated']:
            logger.warning("Capacity reservation %s is overallocated: %s virtual machines allocated for a capacity "
                           "of %s. Azure gives the excess no capacity guarantee.",
                           reservation['name'], reservation['allocated'], reservation['capacity'])
    return status


def detach(cmd, client, resource_group_name=None, vm_scale_set_name=None, *, strategy=DEALLOCATE_STRATEGY,
           leave_deallocated=False, max_unavailable=DEFAULT_MAX_UNAVAILABLE, concurrency=DEFAULT_CONCURRENCY,
           force=False, dry_run=False, yes=False, capacity_reservation_group=None, delete_group=False):
    # str()/int(): the CLI passes defaults as marked subclasses, which would serialise as {"isDefault": true}
    intent = Intent('detach', strategy=str(strategy), leave_deallocated=bool(leave_deallocated),
                    max_unavailable=int(max_unavailable), force=bool(force))
    if capacity_reservation_group:  # every scale set and VM on the group (group.py)
        from .group import detach_group
        return detach_group(cmd, client, capacity_reservation_group, intent, concurrency=_count(concurrency),
                            dry_run=dry_run, yes=yes, delete_group=bool(delete_group))
    return _move(cmd, client, resource_group_name, vm_scale_set_name, intent, concurrency=_count(concurrency),
                 dry_run=dry_run, yes=yes)


def attach(cmd, client, resource_group_name, vm_scale_set_name, *, capacity_reservation_group,
           leave_deallocated=False, max_unavailable=DEFAULT_MAX_UNAVAILABLE, concurrency=DEFAULT_CONCURRENCY,
           dry_run=False, yes=False):
    intent = Intent('attach', group_id=capacity_reservation_group, leave_deallocated=bool(leave_deallocated),
                    max_unavailable=int(max_unavailable))
    return _move(cmd, client, resource_group_name, vm_scale_set_name, intent, concurrency=_count(concurrency),
                 dry_run=dry_run, yes=yes)


def _count(concurrency):
    """--concurrency, or None: as many as a step's batch has members, up to the cap (execute.py)."""
    return None if concurrency is None else int(concurrency)


def _inspect(cmd, client, resource_group_name, vm_scale_set_name, target_group_id=None):
    return inspect_scale_set(client, resource_group_name, vm_scale_set_name,
                             client_for_subscription=partial(cf_compute_for_subscription, cmd.cli_ctx),
                             target_group_id=target_group_id)


def _move(cmd, client, resource_group_name, vm_scale_set_name, intent, **options):
    return move(cmd, client, partial(_inspect, cmd, client, resource_group_name, vm_scale_set_name, intent.group_id),
                intent, **options)
