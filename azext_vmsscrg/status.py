# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Pure presentation: a Snapshot (and the journal's record of an unfinished run) becomes the `status` result.
No requests, no SDK."""
from .snapshot import (ATTACHED, DETACHED, UNKNOWN, association_state, held_group, normalize_id, resource_name,
                       same_id)


def build_status(snapshot, record=None):
    """`record`: the journal of a run that did not finish, whose intent decides what the members should hold."""
    scale_set = snapshot.scale_set
    group_id = snapshot.group_id
    if record is not None and record.action == 'attach':
        group_id = record.group_id
    elif record is None and not scale_set.has_vm_profile and group_id is None:
        group_id = held_group(snapshot.instances)  # members half moved: compare them with the group some hold
    wanted = None if record is not None and record.action == 'detach' else group_id
    instances = [_instance(instance, wanted) for instance in snapshot.instances]
    reservations = [reservation_entry(r) for r in snapshot.group.reservations] if snapshot.group else []
    state = association_state(snapshot, group_id)
    return {
        'scaleSet': scale_set.id,
        'orchestrationMode': scale_set.orchestration_mode,
        'upgradePolicy': scale_set.upgrade_mode,
        'zones': list(scale_set.zones),
        'sku': {'name': scale_set.sku_name, 'capacity': scale_set.capacity},
        'capacityReservationGroup': snapshot.group_id,
        'capacityReservationGroupSource': snapshot.group_source,
        'capacityReservationGroupError': read_error_entry(snapshot.group_error),
        'capacityReservationGroupType': snapshot.group.reservation_type if snapshot.group else None,
        'associationLookupError': read_error_entry(snapshot.lookup_error),
        'instances': instances,
        'reservations': reservations,
        'summary': {
            'instances': len(instances),
            'associated': sum(1 for instance in instances if instance['capacityReservationGroup']),
            'inSync': sum(1 for instance in instances if instance['inSync'] is True),
            'outOfSync': sum(1 for instance in instances if instance['inSync'] is False),
            'unknown': sum(1 for instance in instances if instance['inSync'] is None),
        },
        'state': state,
        'unfinishedRun': record.to_dict() if record is not None else None,
        'nextAction': _next_action(snapshot, group_id, state, record),
    }


def _instance(instance, group_id):
    return {
        'name': instance.name,
        'id': instance.id,
        'instanceId': instance.instance_id,
        'powerState': instance.power_state,
        'capacityReservationGroup': instance.group_id,
        'latestModelApplied': instance.latest_model_applied,
        'inSync': same_id(instance.group_id, group_id) if instance.group_known else None,
    }


def reservation_entry(reservation):
    return {
        'id': reservation.id,
        'name': reservation.name,
        'sku': reservation.sku,
        'zone': reservation.zone,
        'capacity': reservation.capacity,
        'allocated': reservation.allocated,
        'associated': reservation.associated,
        'overallocated': reservation.allocated is not None and reservation.allocated > reservation.capacity,
        # a Block reservation holds its capacity only from start to end
        'schedule': {'start': reservation.schedule[0], 'end': reservation.schedule[1]} if reservation.schedule
        else None,
    }


def read_error_entry(error):
    if error is None:
        return None
    return {'id': error.resource_id, 'status': error.status_code, 'code': error.code, 'message': error.message}


def _next_action(snapshot, group_id, state, record):  # pylint: disable=too-many-return-statements
    # one answer per state, read top to bottom
    scale_set = snapshot.scale_set
    command = f'az vmss capacity-reservation {{}} -g {scale_set.resource_group} -n {scale_set.name}'
    if record is not None:  # an unfinished run: the command that finishes it
        finish = command.format(record.action) + (
            f" --crg {_group_argument(scale_set, record.group_id)}" if record.action == 'attach' else '')
        return f'A {record.describe()} run did not finish: run {finish} to finish it (it starts again what it stopped).'
    if state == ATTACHED:
        return 'Nothing to do: the scale set and all its instances are on the capacity reservation group.'
    if state == DETACHED:
        return 'Nothing to do: neither the scale set nor any of its instances is on a capacity reservation group.'
    if state == UNKNOWN:
        return ('Resolve the error in capacityReservationGroupError or associationLookupError (often missing read '
                'access to a capacity reservation group), then run this command again.')
    missing = snapshot.group_error is not None and snapshot.group_error.status_code == 404
    attach = f"{command.format('attach')} --crg {_group_argument(scale_set, group_id)}" if group_id else None
    if attach and not missing and scale_set.has_vm_profile:
        return attach
    if attach and not missing:  # members only, some on a group: either direction finishes the move
        return f"{attach} to finish attaching, or {command.format('detach')} to finish detaching."
    return command.format('detach')


def _group_argument(scale_set, group_id):
    """The group's name when it is in the scale set's resource group (how --crg resolves names), else its id."""
    group_scope = normalize_id(group_id).rsplit('/providers/', 1)[0]
    scale_set_scope = normalize_id(scale_set.id).rsplit('/providers/', 1)[0]
    return resource_name(group_id) if group_scope == scale_set_scope else group_id


def unlisted(snapshot):
    """Members whose own association the group's list (virtualMachinesAssociated) does not show yet, or still
    shows after they left: Azure updates the lists some time after the machines. Only members whose association
    is read from the member itself can disagree."""
    group = snapshot.group
    if group is None:
        return []
    listed = {normalize_id(vm) for vm in group.associated_ids}
    return [i.name for i in snapshot.instances
            if i.group_known and same_id(i.group_id, group.id) != (normalize_id(i.id) in listed)]
