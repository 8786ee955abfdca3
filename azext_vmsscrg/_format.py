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
    if 'scaleSets' in result:
        return transform_group_status_table(result)
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
    if 'scaleSet' not in result:
        return _group_move_table(result)
    rows = [OrderedDict([('Step', n), ('Action', step['action']), ('Batch', step.get('batch') or ''),
                         ('Count', step['count']), ('Outcome', step.get('outcome', 'planned')),
                         ('Seconds', step.get('seconds', '')), ('Reason', step['reason'])])
            for n, step in enumerate(result['steps'], 1)]
    if result.get('dryRun'):
        return rows
    rows.append(OrderedDict([('Step', '-'), ('Action', f"state: {result['status']['state']}"), ('Batch', ''),
                             ('Count', result['status']['summary']['instances']), ('Outcome', ''), ('Seconds', ''),
                             ('Reason', result['status']['nextAction'])]))
    return rows


def transform_group_status_table(result):
    """status --crg: the group, then a row per reservation, scale set, standalone VM, sharing and unreadable member."""
    def row(kind, name, state, detail):
        return OrderedDict([('Kind', kind), ('Name', name), ('State', state), ('Detail', detail)])
    rows = [row('group', result['name'], 'deletable' if result['deletable'] else 'not deletable',
                '; '.join(result['blockers']) or result['nextAction'])]
    for r in result['reservations']:
        state = 'overallocated' if r['overallocated'] else f"{r['allocated']} of {r['capacity']} allocated"
        zone = f", zone {r['zone']}" if r['zone'] else ''
        rows.append(row('reservation', r['name'], state, (f"{r['sku']}{zone}, capacity {r['capacity']}, "
                                                          f"{r['associated']} associated")))
    for s in result['scaleSets']:
        detail = (f"{s['orchestrationMode']}, {s['upgradePolicy']} upgrade policy, model "
                  f"{'' if s['modelOnGroup'] else 'not '}on the group, {s['instancesOnGroup']} of "
                  f"{s['summary']['instances']} instance(s) on the group")
        rows.append(row('scale set', s['name'], s['state'], detail))
    for vm in result['virtualMachines']:
        group = resource_name(vm['capacityReservationGroup']) or 'no group'
        rows.append(row('vm', vm['name'], vm['powerState'], f"on {group}"))
    for subscription in result['sharedWith']:
        rows.append(row('shared with', subscription, '', ''))
    for error in result['unreadable']:
        rows.append(row('unreadable', resource_name(error['id']), error['code'] or '', error['message']))
    return rows


def _group_move_table(result):
    rows = [OrderedDict([('Step', n), ('Target', step['target']), ('Action', step['action']),
                         ('Batch', step.get('batch') or ''), ('Count', step['count']),
                         ('Outcome', step.get('outcome', 'planned')), ('Reason', step['reason'])])
            for n, step in enumerate(result['steps'], 1)]
    status = result['status']
    end = 'group deleted' if result['groupDeleted'] else 'deletable' if status and status['deletable'] else \
        'not deletable'
    rows.append(OrderedDict([('Step', '-'), ('Target', resource_name(result['capacityReservationGroup'])),
                             ('Action', f"state: {end}"), ('Batch', ''), ('Count', ''), ('Outcome', ''),
                             ('Reason', '' if result['groupDeleted'] else status['nextAction'])]))
    return rows


def resource_name(resource_id):
    """The last segment of an id (snapshot.resource_name, without importing snapshot)."""
    return resource_id.rstrip('/').rsplit('/', 1)[-1] if resource_id else None
