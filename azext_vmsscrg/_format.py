# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Table transformers. Loaded with the command table, so it imports nothing heavy (not even .snapshot's
dataclasses): every `az vmss ...` pays for what this module imports."""
from collections import OrderedDict

NO_GROUP = '-'
UNKNOWN_GROUP = '?'


def transform_status_table(result):
    """One row per instance, each led by the overall state and the model's group; one row if there are none."""
    summary = OrderedDict([('State', result['state']),
                           ('ModelGroup', resource_name(result['capacityReservationGroup']) or NO_GROUP)])
    rows = [OrderedDict(summary, Name=instance['name'], PowerState=instance['powerState'],
                        Group=_group(instance), InSync=instance['inSync'], LatestModel=instance['latestModelApplied'])
            for instance in result['instances']]
    return rows or [summary]


def _group(instance):
    if instance['inSync'] is None:
        return UNKNOWN_GROUP
    return resource_name(instance['capacityReservationGroup']) or NO_GROUP


def transform_move_table(result):
    """attach/detach: one row per step, in the order they run (planned with --dry-run, done otherwise), then the
    end state; a dry run has no end state yet, so no state row."""
    rows = [OrderedDict([('Step', n), ('Action', step['action']), ('Batch', step.get('batch') or ''),
                         ('Count', step['count']), ('Outcome', step.get('outcome', 'planned')),
                         ('Seconds', step.get('seconds', '')), ('Reason', step['reason'])])
            for n, step in enumerate(result['steps'], 1)]
    if result.get('dryRun'):
        return rows
    rows.append(OrderedDict([('Step', '-'), ('Action', 'state: ' + result['status']['state']), ('Batch', ''),
                             ('Count', result['status']['summary']['instances']), ('Outcome', ''), ('Seconds', ''),
                             ('Reason', result['status']['nextAction'])]))
    return rows


def resource_name(resource_id):
    """The last segment of an id (snapshot.resource_name, without importing snapshot)."""
    return resource_id.rstrip('/').rsplit('/', 1)[-1] if resource_id else None
