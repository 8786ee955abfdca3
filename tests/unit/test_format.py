# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from knack.output import format_table
from knack.util import CommandResultItem

from azext_vmsscrg._format import transform_status_table

GROUP_ID = ('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/MyResourceGroup/providers/'
            'Microsoft.Compute/capacityReservationGroups/MyGroup')


def instance(name, group, power='running', in_sync=True, latest=True):
    return {'name': name, 'id': '/' + name, 'instanceId': None, 'powerState': power,
            'capacityReservationGroup': group, 'latestModelApplied': latest, 'inSync': in_sync}


def result(instances, state='partial', group=GROUP_ID):
    return {'state': state, 'capacityReservationGroup': group, 'instances': instances}


def table(result_):
    return format_table(CommandResultItem(result_, table_transformer=transform_status_table)).splitlines()


def test_one_row_per_instance_led_by_state_and_model_group():
    rows = transform_status_table(result([
        instance('MyScaleSet_0', GROUP_ID),
        instance('MyScaleSet_1', None, power='deallocated', in_sync=False, latest=False),
        instance('MyScaleSet_2', None, in_sync=None)]))

    assert [list(row.items()) for row in rows] == [
        [('State', 'partial'), ('ModelGroup', 'MyGroup'), ('Name', 'MyScaleSet_0'), ('PowerState', 'running'),
         ('Group', 'MyGroup'), ('InSync', True), ('LatestModel', True)],
        [('State', 'partial'), ('ModelGroup', 'MyGroup'), ('Name', 'MyScaleSet_1'), ('PowerState', 'deallocated'),
         ('Group', '-'), ('InSync', False), ('LatestModel', False)],
        [('State', 'partial'), ('ModelGroup', 'MyGroup'), ('Name', 'MyScaleSet_2'), ('PowerState', 'running'),
         ('Group', '?'), ('InSync', None), ('LatestModel', True)]]


def test_renders_as_a_table_a_person_can_read():
    header, _, *rows = table(result([instance('MyScaleSet_0', GROUP_ID),
                                     instance('MyScaleSet_1', None, in_sync=False, latest=False)]))

    assert header.split() == ['State', 'ModelGroup', 'Name', 'PowerState', 'Group', 'InSync', 'LatestModel']
    assert [row.split() for row in rows] == [
        ['partial', 'MyGroup', 'MyScaleSet_0', 'running', 'MyGroup', 'True', 'True'],
        ['partial', 'MyGroup', 'MyScaleSet_1', 'running', '-', 'False', 'False']]


def test_flexible_members_leave_out_the_latest_model_column():
    header, _, row = table(result([instance('vm1', GROUP_ID, latest=None)], state='attached'))

    assert header.split() == ['State', 'ModelGroup', 'Name', 'PowerState', 'Group', 'InSync']
    assert row.split() == ['attached', 'MyGroup', 'vm1', 'running', 'MyGroup', 'True']


def test_scale_set_without_instances_still_shows_its_state_and_model_group():
    assert table(result([], state='detached', group=None)) == ['State     ModelGroup', '--------  ------------',
                                                               'detached  -']
