# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""build_status is pure: feed it snapshots made of plain dataclasses and compare the result."""
import pytest

from azext_vmsscrg.snapshot import (FLEXIBLE, UNIFORM, Group, Instance, ReadError, Reservation, ScaleSet,
                                    Snapshot)
from azext_vmsscrg.status import build_status

SUB = '/subscriptions/00000000-0000-0000-0000-000000000001'
RG_SCOPE = SUB + '/resourceGroups/MyResourceGroup/providers/Microsoft.Compute'
VMSS_ID = RG_SCOPE + '/virtualMachineScaleSets/MyScaleSet'
GROUP_ID = RG_SCOPE + '/capacityReservationGroups/MyGroup'
OTHER_GROUP_ID = RG_SCOPE + '/capacityReservationGroups/OtherGroup'
# How ARM may echo GROUP_ID: another type casing and an upper-cased resource group.
GROUP_ID_ECHOED = SUB + '/resourceGroups/MYRESOURCEGROUP/providers/Microsoft.Compute/CapacityReservationGroups/MYGROUP'

ATTACH = 'az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg '
DETACH = 'az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet'


def scale_set(mode=UNIFORM, model_group=GROUP_ID, upgrade='Automatic', zones=(), has_vm_profile=True):
    return ScaleSet(id=VMSS_ID, name='MyScaleSet', resource_group='MyResourceGroup', orchestration_mode=mode,
                    upgrade_mode=upgrade, zones=zones, sku_name='Standard_D2s_v3', capacity=2,
                    has_vm_profile=has_vm_profile, model_group_id=model_group)


def uniform(index, group=GROUP_ID, power='running', latest=True, known=True):
    return Instance(id=VMSS_ID + '/virtualMachines/{}'.format(index), name='MyScaleSet_{}'.format(index),
                    instance_id=str(index), power_state=power, latest_model_applied=latest, group_id=group,
                    group_known=known)


def member(name, group=GROUP_ID, power='running'):
    return Instance(id=RG_SCOPE + '/virtualMachines/' + name, name=name, instance_id=None, power_state=power,
                    latest_model_applied=None, group_id=group)


def reservation(name='r1', capacity=2, allocated=2, associated=2, zone=None):
    return Reservation(id=GROUP_ID + '/capacityReservations/' + name, name=name, sku='Standard_D2s_v3',
                       zone=zone, capacity=capacity, allocated=allocated, associated=associated)


def group(*reservations, group_id=GROUP_ID):
    return Group(id=group_id, associated_ids=(), reservations=reservations)


def status(scale_set_=None, instances=(), group_=None, **errors):
    return build_status(Snapshot(scale_set_ or scale_set(), tuple(instances), group_, **errors))


def test_uniform_regional_attached_full_shape():
    result = status(instances=[uniform(0), uniform(1)], group_=group(reservation()))

    assert result == {
        'scaleSet': VMSS_ID,
        'orchestrationMode': 'Uniform',
        'upgradePolicy': 'Automatic',
        'zones': [],
        'sku': {'name': 'Standard_D2s_v3', 'capacity': 2},
        'capacityReservationGroup': GROUP_ID,
        'capacityReservationGroupSource': 'model',
        'capacityReservationGroupError': None,
        'capacityReservationGroupType': None,
        'associationLookupError': None,
        'instances': [
            {'name': 'MyScaleSet_{}'.format(i), 'id': VMSS_ID + '/virtualMachines/{}'.format(i),
             'instanceId': str(i), 'powerState': 'running', 'capacityReservationGroup': GROUP_ID,
             'latestModelApplied': True, 'inSync': True}
            for i in (0, 1)],
        'reservations': [
            {'id': GROUP_ID + '/capacityReservations/r1', 'name': 'r1', 'sku': 'Standard_D2s_v3', 'zone': None,
             'capacity': 2, 'allocated': 2, 'associated': 2, 'overallocated': False, 'schedule': None}],
        'summary': {'instances': 2, 'associated': 2, 'inSync': 2, 'outOfSync': 0, 'unknown': 0},
        'state': 'attached',
        'unfinishedRun': None,
        'nextAction': 'Nothing to do: the scale set and all its instances are on the capacity reservation group.',
    }


def test_zonal_scale_set_reports_zones_and_reservation_zone():
    result = status(scale_set(zones=('1', '2')), [uniform(0)], group(reservation(zone='1')))

    assert result['zones'] == ['1', '2']
    assert result['reservations'][0]['zone'] == '1'


def test_uniform_detached():
    result = status(scale_set(model_group=None), [uniform(0, group=None), uniform(1, group=None)])

    assert result['state'] == 'detached'
    assert result['capacityReservationGroup'] is None
    assert result['reservations'] == []
    assert [i['inSync'] for i in result['instances']] == [True, True]
    assert result['summary'] == {'instances': 2, 'associated': 0, 'inSync': 2, 'outOfSync': 0, 'unknown': 0}
    assert result['nextAction'].startswith('Nothing to do')


@pytest.mark.parametrize('model_group', [GROUP_ID, None])
def test_empty_scale_set_follows_its_model(model_group):
    result = status(scale_set(model_group=model_group), [], group(reservation()) if model_group else None)

    assert result['state'] == ('attached' if model_group else 'detached')
    assert result['summary'] == {'instances': 0, 'associated': 0, 'inSync': 0, 'outOfSync': 0, 'unknown': 0}


def test_manual_instance_not_on_latest_model_is_partial_and_attach_finishes():
    result = status(scale_set(upgrade='Manual'),
                    [uniform(0), uniform(1, group=None, latest=False)], group(reservation()))

    assert result['upgradePolicy'] == 'Manual'
    assert result['state'] == 'partial'
    assert result['instances'][1]['latestModelApplied'] is False
    assert result['instances'][1]['inSync'] is False
    assert result['summary'] == {'instances': 2, 'associated': 1, 'inSync': 1, 'outOfSync': 1, 'unknown': 0}
    assert result['nextAction'] == ATTACH + 'MyGroup'


def test_instance_still_on_a_group_after_the_model_dropped_it_is_partial_and_detach_finishes():
    result = status(scale_set(model_group=None, upgrade='Manual'),
                    [uniform(0, group=None), uniform(1, group=GROUP_ID, latest=False)])

    assert result['state'] == 'partial'
    assert result['instances'][1]['capacityReservationGroup'] == GROUP_ID
    assert result['nextAction'] == DETACH


def test_instance_on_another_group_is_out_of_sync():
    result = status(instances=[uniform(0), uniform(1, group=OTHER_GROUP_ID, latest=False)],
                    group_=group(reservation()))

    assert result['state'] == 'partial'
    assert [i['inSync'] for i in result['instances']] == [True, False]


def test_ids_are_compared_case_insensitively():
    result = status(instances=[uniform(0, group=GROUP_ID_ECHOED)], group_=group(reservation()))

    assert result['instances'][0]['inSync'] is True
    assert result['state'] == 'attached'


def test_next_action_names_a_group_of_the_scale_sets_resource_group_even_in_another_casing():
    result = status(scale_set(model_group=GROUP_ID_ECHOED), [uniform(0, group=None)], group(reservation()))

    assert result['nextAction'] == ATTACH + 'MYGROUP'


@pytest.mark.parametrize('group_id', [
    SUB + '/resourceGroups/Elsewhere/providers/Microsoft.Compute/capacityReservationGroups/MyGroup',
    '/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/MyResourceGroup/providers/'
    'Microsoft.Compute/capacityReservationGroups/MyGroup'])
def test_next_action_gives_the_id_of_a_group_elsewhere(group_id):
    result = status(scale_set(model_group=group_id), [uniform(0, group=None)], group(group_id=group_id))

    assert result['nextAction'] == ATTACH + group_id


def test_flexible_members_keep_power_state_and_have_no_latest_model():
    result = status(scale_set(FLEXIBLE, upgrade='Manual'),
                    [member('vm1'), member('vm2', power='deallocated'), member('vm3', power='stopped')],
                    group(reservation(allocated=2, associated=3)))

    assert result['orchestrationMode'] == 'Flexible'
    assert [i['powerState'] for i in result['instances']] == ['running', 'deallocated', 'stopped']
    assert all(i['latestModelApplied'] is None and i['instanceId'] is None for i in result['instances'])
    assert result['state'] == 'attached'
    assert result['reservations'][0]['allocated'] == 2
    assert result['reservations'][0]['associated'] == 3


def test_flexible_member_on_no_group_is_partial():
    result = status(scale_set(FLEXIBLE), [member('vm1'), member('vm2', group=None, power='deallocated')],
                    group(reservation()))

    assert result['state'] == 'partial'
    assert result['nextAction'] == ATTACH + 'MyGroup'


@pytest.mark.parametrize('allocated, overallocated', [(3, True), (2, False), (0, False), (None, False)])
def test_overallocated_means_more_allocated_than_capacity(allocated, overallocated):
    result = status(instances=[uniform(0)], group_=group(reservation(capacity=2, allocated=allocated)))

    assert result['reservations'][0]['overallocated'] is overallocated


def test_reservations_keep_snapshot_order():
    result = status(instances=[uniform(0)], group_=group(reservation('a', zone='1'), reservation('b', zone='2')))

    assert [r['name'] for r in result['reservations']] == ['a', 'b']


def test_missing_group_is_reported_and_detach_finishes():
    error = ReadError(GROUP_ID, 404, 'ResourceNotFound', 'The resource was not found.')
    result = status(scale_set(FLEXIBLE), [member('vm1')], None, group_error=error)

    assert result['capacityReservationGroupError'] == {
        'id': GROUP_ID, 'status': 404, 'code': 'ResourceNotFound', 'message': 'The resource was not found.'}
    assert result['reservations'] == []
    # The members still name the group, but a group that is gone can't count as attached.
    assert result['state'] == 'partial'
    assert result['nextAction'] == DETACH


def test_unreadable_group_leaves_uniform_instances_unknown():
    error = ReadError(GROUP_ID, 403, 'AuthorizationFailed', 'No read access.')
    result = status(instances=[uniform(0, group=None, known=False)], group_error=error)

    assert result['capacityReservationGroupError']['status'] == 403
    assert result['instances'][0]['inSync'] is None
    assert result['summary'] == {'instances': 1, 'associated': 0, 'inSync': 0, 'outOfSync': 0, 'unknown': 1}
    assert result['state'] == 'unknown'
    assert 'capacityReservationGroupError' in result['nextAction']


def test_unreadable_group_still_reports_flexible_members_from_their_own_association():
    error = ReadError(GROUP_ID, 403, 'AuthorizationFailed', 'No read access.')
    result = status(scale_set(FLEXIBLE), [member('vm1')], None, group_error=error)

    assert result['state'] == 'attached'
    assert result['reservations'] == []


def test_lookup_error_is_reported():
    error = ReadError(SUB, 403, 'AuthorizationFailed', 'No read access.')
    result = status(scale_set(model_group=None), [uniform(0, group=None, latest=False, known=False)],
                    lookup_error=error)

    assert result['associationLookupError'] == {
        'id': SUB, 'status': 403, 'code': 'AuthorizationFailed', 'message': 'No read access.'}
    assert result['state'] == 'unknown'


def test_flexible_without_profile_reports_the_group_its_members_share():
    no_profile = scale_set(FLEXIBLE, model_group=None, has_vm_profile=False)
    result = status(no_profile, [member('vm1'), member('vm2', group=GROUP_ID_ECHOED, power='deallocated')],
                    group(reservation()))

    assert result['capacityReservationGroup'] == GROUP_ID
    assert result['capacityReservationGroupSource'] == 'members'
    assert result['state'] == 'attached'
    assert result['summary']['inSync'] == 2


@pytest.mark.parametrize('groups', [(GROUP_ID, OTHER_GROUP_ID), (GROUP_ID, None)])
def test_flexible_without_profile_whose_members_share_no_group_is_partial(groups):
    no_profile = scale_set(FLEXIBLE, model_group=None, has_vm_profile=False)
    result = status(no_profile, [member('vm{}'.format(i), group=g) for i, g in enumerate(groups)])

    assert result['capacityReservationGroup'] is None
    assert result['capacityReservationGroupSource'] == 'members'
    assert result['state'] == 'partial'
    if None in groups:  # some members on one group, the others on none: a move half done, either way
        assert result['nextAction'].startswith('az vmss capacity-reservation attach')
        assert DETACH in result['nextAction']
    else:
        assert result['nextAction'] == DETACH


@pytest.mark.parametrize('members', [[], [member('vm1', group=None)]])
def test_flexible_without_profile_and_without_associations_is_detached(members):
    no_profile = scale_set(FLEXIBLE, model_group=None, has_vm_profile=False)
    result = status(no_profile, members)

    assert result['capacityReservationGroup'] is None
    assert result['state'] == 'detached'


def test_block_group_reports_its_type_and_each_reservation_schedule():
    block = Reservation(id=GROUP_ID + '/capacityReservations/b', name='b', sku='Standard_D2s_v3', zone=None,
                        capacity=2, allocated=1, associated=2,
                        schedule=('2025-08-01T12:00:00Z', '2025-08-02T11:30:00Z'))
    block_group = Group(id=GROUP_ID, associated_ids=(), reservations=(block,), reservation_type='Block')
    result = status(instances=[uniform(0)], group_=block_group)

    assert result['capacityReservationGroupType'] == 'Block'
    assert result['reservations'][0]['schedule'] == {'start': '2025-08-01T12:00:00Z', 'end': '2025-08-02T11:30:00Z'}
    assert status(instances=[uniform(0)], group_=group(reservation()))['capacityReservationGroupType'] is None


def test_an_unfinished_run_decides_what_status_calls_in_sync_and_how_to_finish():
    import datetime
    from azext_vmsscrg.journal import Record
    no_profile = scale_set(FLEXIBLE, model_group=None, has_vm_profile=False)
    started = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    record = Record('attach', GROUP_ID, started, frozenset({'vm1'}))
    members = (member('vm0', group=GROUP_ID), member('vm1', group=None))
    result = build_status(Snapshot(no_profile, members, None), record)
    assert result['state'] == 'partial'
    assert [i['inSync'] for i in result['instances']] == [True, False]
    assert 'attach -g MyResourceGroup -n MyScaleSet --crg MyGroup' in result['nextAction']
    assert result['unfinishedRun']['action'] == 'attach' and result['unfinishedRun']['running'] == ['vm1']


def test_unlisted_names_members_the_lists_do_not_show_yet():
    from azext_vmsscrg.status import unlisted
    listed = Group(id=GROUP_ID_ECHOED, reservations=(), associated_ids=(
        (RG_SCOPE + '/virtualMachines/m-0').upper(), RG_SCOPE + '/virtualMachines/m-2'))
    members = [member('m-0'), member('m-1'), member('m-2', group=None), member('m-3', group=None)]

    # m-1 joined but is not listed yet; m-2 left but is still listed; m-0 and m-3 agree (ids compared case-blind)
    assert unlisted(Snapshot(scale_set(FLEXIBLE), tuple(members), listed)) == ['m-1', 'm-2']
    assert unlisted(Snapshot(scale_set(FLEXIBLE), tuple(members), None)) == []
