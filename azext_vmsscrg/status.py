"""Pure presentation: a Snapshot becomes the `status` result. No requests, no SDK."""
from .snapshot import normalize_id, resource_name, same_id

ATTACHED = 'attached'
DETACHED = 'detached'
PARTIAL = 'partial'
UNKNOWN = 'unknown'  # an unreadable group hides which group some instances are on


def build_status(snapshot):
    scale_set = snapshot.scale_set
    group_id = snapshot.group_id
    instances = [_instance(instance, group_id) for instance in snapshot.instances]
    reservations = [_reservation(reservation) for reservation in snapshot.group.reservations] if snapshot.group else []
    state = _state(snapshot, group_id)
    return {
        'scaleSet': scale_set.id,
        'orchestrationMode': scale_set.orchestration_mode,
        'upgradePolicy': scale_set.upgrade_mode,
        'zones': list(scale_set.zones),
        'sku': {'name': scale_set.sku_name, 'capacity': scale_set.capacity},
        'capacityReservationGroup': group_id,
        'capacityReservationGroupSource': snapshot.group_source,
        'capacityReservationGroupError': _error(snapshot.group_error),
        'capacityReservationGroupType': snapshot.group.reservation_type if snapshot.group else None,
        'associationLookupError': _error(snapshot.lookup_error),
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
        'nextAction': _next_action(snapshot, group_id, state),
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


def _reservation(reservation):
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


def _error(error):
    if error is None:
        return None
    return {'id': error.resource_id, 'status': error.status_code, 'code': error.code, 'message': error.message}


def _group_missing(snapshot):
    return snapshot.group_error is not None and snapshot.group_error.status_code == 404


def _state(snapshot, group_id):
    instances = snapshot.instances
    if not all(instance.group_known for instance in instances):
        return UNKNOWN
    if group_id and not _group_missing(snapshot) and all(same_id(i.group_id, group_id) for i in instances):
        return ATTACHED
    if not group_id and not any(instance.group_id for instance in instances):
        return DETACHED
    return PARTIAL


def _next_action(snapshot, group_id, state):
    scale_set = snapshot.scale_set
    if state == ATTACHED:
        return 'Nothing to do: the scale set and all its instances are on the capacity reservation group.'
    if state == DETACHED:
        return 'Nothing to do: neither the scale set nor any of its instances is on a capacity reservation group.'
    if state == UNKNOWN:
        return ('Resolve the error in capacityReservationGroupError or associationLookupError (often missing read '
                'access to a capacity reservation group), then run this command again.')
    command = 'az vmss capacity-reservation {{}} -g {} -n {}'.format(scale_set.resource_group, scale_set.name)
    if group_id and not _group_missing(snapshot):
        return command.format('attach') + ' --crg ' + _group_argument(scale_set, group_id)
    return command.format('detach')


def _group_argument(scale_set, group_id):
    """The group's name when it is in the scale set's resource group (how --crg resolves names), else its id."""
    group_scope = normalize_id(group_id).rsplit('/providers/', 1)[0]
    scale_set_scope = normalize_id(scale_set.id).rsplit('/providers/', 1)[0]
    return resource_name(group_id) if group_scope == scale_set_scope else group_id
