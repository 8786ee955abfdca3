# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""inspect_scale_set against a fake compute client that serves SDK models built from wire JSON."""
import json
import logging
import threading
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import ResourceNotFoundError
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError as SdkResourceNotFoundError
from azure.mgmt.compute.v2024_11_01 import models

from azext_vmsscrg.custom import show_status
from azext_vmsscrg.survey import inspect_scale_set
from azext_vmsscrg.snapshot import FLEXIBLE, UNIFORM

SUB_ID = '00000000-0000-0000-0000-000000000001'
OTHER_SUB_ID = '00000000-0000-0000-0000-000000000002'
RG_SCOPE = '/subscriptions/{}/resourceGroups/MyResourceGroup/providers/Microsoft.Compute'.format(SUB_ID)
VMSS_ID = RG_SCOPE + '/virtualMachineScaleSets/MyScaleSet'
GROUP_ID = RG_SCOPE + '/capacityReservationGroups/MyGroup'
OLD_GROUP_ID = RG_SCOPE + '/capacityReservationGroups/OldGroup'
REMOTE_GROUP_ID = GROUP_ID.replace(SUB_ID, OTHER_SUB_ID)


def scale_set_json(mode=UNIFORM, group=GROUP_ID, profile=True, upgrade='Automatic', zones=None):
    properties = {'orchestrationMode': mode}
    if upgrade:
        properties['upgradePolicy'] = {'mode': upgrade}
    if profile:
        properties['virtualMachineProfile'] = (
            {'capacityReservation': {'capacityReservationGroup': {'id': group}}} if group else {})
    body = {'id': VMSS_ID, 'name': 'MyScaleSet', 'location': 'westus', 'properties': properties,
            'sku': {'name': 'Standard_D2s_v3', 'capacity': 2}}
    if zones:
        body['zones'] = zones
    return body


def instance_view_json(power):
    return {'statuses': [{'code': 'ProvisioningState/succeeded'}, {'code': 'PowerState/' + power}]}


def uniform_vm_json(index, latest=True, power='running'):
    return {'id': VMSS_ID + '/virtualMachines/{}'.format(index), 'name': 'MyScaleSet_{}'.format(index),
            'instanceId': str(index), 'location': 'westus',
            'properties': {'latestModelApplied': latest, 'instanceView': instance_view_json(power)}}


def member_json(name, group=GROUP_ID, power=None):
    properties = {'virtualMachineScaleSet': {'id': VMSS_ID}}
    if group:
        properties['capacityReservation'] = {'capacityReservationGroup': {'id': group}}
    if power:
        properties['instanceView'] = instance_view_json(power)
    return {'id': RG_SCOPE + '/virtualMachines/' + name, 'name': name, 'location': 'westus',
            'properties': properties}


def group_json(group_id=GROUP_ID, associated=(), allocated=None):
    """allocated: reservation name -> allocated VM ids, as the group's instance view lists them."""
    views = [{'name': name, 'utilizationInfo': {'virtualMachinesAllocated': [{'id': i} for i in ids]}}
             for name, ids in (allocated or {}).items()]
    return {'id': group_id, 'name': group_id.rsplit('/', 1)[-1], 'location': 'westus',
            'properties': {'virtualMachinesAssociated': [{'id': i} for i in associated],
                           'instanceView': {'capacityReservations': views}}}


def reservation_json(name, capacity=2, zone=None, associated=(), group_id=GROUP_ID):
    body = {'id': group_id + '/capacityReservations/' + name, 'name': name, 'location': 'westus',
            'sku': {'name': 'Standard_D2s_v3', 'capacity': capacity},
            'properties': {'virtualMachinesAssociated': [{'id': i} for i in associated]}}
    if zone:
        body['zones'] = [zone]
    return body


class ErrorResponse:
    """Just enough of an HTTP response for azure-core to parse an ARM error body."""

    def __init__(self, status_code, code, message='Refused.'):
        self.status_code = status_code
        self.reason = 'Error'
        self.headers = {'content-type': 'application/json'}
        self.content_type = 'application/json'
        self.request = None
        self._body = json.dumps({'error': {'code': code, 'message': message}}).encode()

    def body(self):
        return self._body

    def text(self, encoding=None):  # pylint: disable=unused-argument
        return self._body.decode()


def not_found(code='ResourceNotFound'):
    return SdkResourceNotFoundError(response=ErrorResponse(404, code))


def forbidden():
    return HttpResponseError(response=ErrorResponse(403, 'AuthorizationFailed', 'No read access.'))


class FakeCompute:
    """Serves what an ARM subscription would and records every request it is sent."""

    def __init__(self, scale_set=None, vms=(), groups=(), reservations=(), errors=None, on_instance_view=None,
                 shared=()):
        self.requests = []
        self._groups = {g['name'].lower(): g for g in groups}
        self._errors = errors or {}
        self.virtual_machine_scale_sets = SimpleNamespace(
            get=self._serve('vmss.get', lambda rg, name: models.VirtualMachineScaleSet.deserialize(scale_set)))
        self.virtual_machine_scale_set_vms = SimpleNamespace(
            list=self._serve('vmss_vms.list', lambda rg, name, expand: [
                models.VirtualMachineScaleSetVM.deserialize(vm) for vm in vms]))
        self.virtual_machines = SimpleNamespace(
            list=self._serve('vms.list', lambda rg, filter, expand: _paged([  # pylint: disable=redefined-builtin
                models.VirtualMachine.deserialize(vm) for vm in vms])),
            instance_view=self._serve('vms.instance_view', on_instance_view),
            get=self._serve('vms.get', lambda rg, name: models.VirtualMachine.deserialize(
                next(vm for vm in vms if vm['name'] == name))))
        self.capacity_reservation_groups = SimpleNamespace(
            get=self._serve('groups.get', lambda rg, name, expand, **sdk: _answer(
                models.CapacityReservationGroup, self._groups[name.lower()], **sdk)),
            list_by_subscription=self._serve('groups.list_by_subscription', self._list_groups(groups, shared)))
        self.capacity_reservations = SimpleNamespace(
            list_by_capacity_reservation_group=self._serve('reservations.list', lambda rg, group: [
                models.CapacityReservation.deserialize(r) for r in reservations]),
            get=self._serve('reservations.get', lambda rg, group, name, **sdk: _answer(
                models.CapacityReservation, next(r for r in reservations if r['name'] == name), **sdk)))

    @staticmethod
    def _list_groups(groups, shared):
        def respond(expand=None, resource_ids_only=None):  # shared groups are listed by id only
            listed = [{'id': gid} for gid in shared] if resource_ids_only else groups
            return [models.CapacityReservationGroup.deserialize(g) for g in listed]
        return respond

    def _serve(self, request, respond):
        def call(*args, **kwargs):
            self.requests.append((request, args, kwargs))
            if request in self._errors:
                raise self._errors[request]
            return respond(*args, **kwargs)
        return call

    def count(self, request):
        return sum(1 for name, _, _ in self.requests if name == request)

    @property
    def request_names(self):
        return sorted(name for name, _, _ in self.requests)


def _paged(items):
    """What an SDK list returns: one page of `items`."""
    from azure.core.paging import ItemPaged
    return ItemPaged(lambda token: items, lambda page: (None, iter(page)))


def _answer(model, body, api_version=None, cls=None):
    """What an SDK get returns: the model, or what `cls` makes of the answer (its JSON as sent) and the model."""
    deserialized = model.deserialize(body)
    if cls is None:
        return deserialized
    return cls(SimpleNamespace(http_response=SimpleNamespace(json=lambda: body)), deserialized, {})


def no_other_subscription(subscription_id):
    raise AssertionError('unexpected client for subscription ' + subscription_id)


def inspect(client, client_for_subscription=no_other_subscription):
    return inspect_scale_set(client, 'MyResourceGroup', 'MyScaleSet', client_for_subscription)


def test_uniform_requests_do_not_grow_with_instances():
    for count in (1, 40):
        ids = [VMSS_ID + '/virtualMachines/{}'.format(i) for i in range(count)]
        client = FakeCompute(scale_set_json(), [uniform_vm_json(i) for i in range(count)],
                             [group_json(associated=ids)], [reservation_json('r1')])

        snapshot = inspect(client)

        assert len(snapshot.instances) == count
        assert client.request_names == ['groups.get', 'reservations.list', 'vmss.get', 'vmss_vms.list']
    assert client.requests[1] == ('vmss_vms.list', ('MyResourceGroup', 'MyScaleSet'), {'expand': 'instanceView'})
    name, args, kwargs = client.requests[2]
    assert (name, args, kwargs['expand'], kwargs['api_version']) == (
        'groups.get', ('MyResourceGroup', 'MyGroup'), 'instanceView', '2025-04-01')


def test_uniform_snapshot_reads_the_model_instances_and_reservations():
    vm0, vm1 = VMSS_ID + '/virtualMachines/0', VMSS_ID + '/virtualMachines/1'
    # ARM echoes the group's ids in other casings.
    client = FakeCompute(
        scale_set_json(upgrade='Rolling', zones=['1']),
        [uniform_vm_json(1, power='deallocated'), uniform_vm_json(0)],
        [group_json(associated=[vm0.upper(), vm1], allocated={'R1': [vm0, vm1, vm1 + 'x']})],
        [reservation_json('r1', capacity=2, zone='1', associated=[vm0, vm1])])

    snapshot = inspect(client)

    scale_set = snapshot.scale_set
    assert (scale_set.orchestration_mode, scale_set.upgrade_mode, scale_set.zones) == (UNIFORM, 'Rolling', ('1',))
    assert (scale_set.sku_name, scale_set.capacity, scale_set.model_group_id) == ('Standard_D2s_v3', 2, GROUP_ID)
    assert [(i.name, i.instance_id, i.power_state, i.latest_model_applied, i.group_id)
            for i in snapshot.instances] == [('MyScaleSet_0', '0', 'running', True, GROUP_ID),
                                             ('MyScaleSet_1', '1', 'deallocated', True, GROUP_ID)]
    [reservation] = snapshot.group.reservations
    assert (reservation.zone, reservation.capacity, reservation.allocated, reservation.associated) == ('1', 2, 3, 2)
    assert snapshot.group_error is None and snapshot.lookup_error is None


def test_reservation_missing_from_the_instance_view_has_unknown_allocation():
    client = FakeCompute(scale_set_json(), [], [group_json()], [reservation_json('r1')])

    assert inspect(client).group.reservations[0].allocated is None


def test_uniform_instances_on_the_latest_model_need_no_search():
    client = FakeCompute(scale_set_json(group=None), [uniform_vm_json(0), uniform_vm_json(1)])

    snapshot = inspect(client)

    assert client.request_names == ['vmss.get', 'vmss_vms.list']
    assert [i.group_id for i in snapshot.instances] == [None, None]


def test_uniform_instance_behind_the_model_is_found_on_its_earlier_group():
    vm1 = VMSS_ID + '/virtualMachines/1'
    client = FakeCompute(scale_set_json(upgrade='Manual'),
                         [uniform_vm_json(0), uniform_vm_json(1, latest=False)],
                         [group_json(associated=[VMSS_ID + '/virtualMachines/0']),
                          group_json(OLD_GROUP_ID, associated=[vm1])],
                         [reservation_json('r1')])

    snapshot = inspect(client)

    assert client.count('groups.list_by_subscription') == 2  # created in, and shared with, the subscription
    assert [i.group_id for i in snapshot.instances] == [GROUP_ID, OLD_GROUP_ID]
    assert all(i.group_known for i in snapshot.instances)


def test_failed_search_leaves_only_the_instances_behind_the_model_unknown(caplog):
    client = FakeCompute(scale_set_json(group=None), [uniform_vm_json(0), uniform_vm_json(1, latest=False)],
                         errors={'groups.list_by_subscription': forbidden()})

    with caplog.at_level(logging.WARNING):
        snapshot = inspect(client)

    assert [i.group_known for i in snapshot.instances] == [True, False]
    assert (snapshot.lookup_error.status_code, snapshot.lookup_error.code) == (403, 'AuthorizationFailed')
    assert snapshot.lookup_error.resource_id == '/subscriptions/' + SUB_ID
    assert 'No read access.' in caplog.text


def test_missing_group_is_reported_not_raised(caplog):
    client = FakeCompute(scale_set_json(), [uniform_vm_json(0)], errors={'groups.get': not_found()})

    with caplog.at_level(logging.WARNING):
        snapshot = inspect(client)

    assert snapshot.group is None
    assert (snapshot.group_error.resource_id, snapshot.group_error.status_code) == (GROUP_ID, 404)
    # A group that is gone holds nothing: no search for instances on the latest model.
    assert snapshot.instances[0].group_id is None and snapshot.instances[0].group_known
    assert client.count('groups.list_by_subscription') == 0
    assert caplog.text == ''  # the status result or the plan's refusal says it, once


def test_unreadable_group_sends_every_instance_it_may_hold_to_the_search(caplog):
    client = FakeCompute(scale_set_json(), [uniform_vm_json(0)], [group_json(associated=[
        VMSS_ID + '/virtualMachines/0'])], errors={'reservations.list': forbidden()})

    with caplog.at_level(logging.WARNING):
        snapshot = inspect(client)

    assert snapshot.group is None and snapshot.group_error.status_code == 403
    assert client.count('groups.list_by_subscription') == 2  # created in, and shared with, the subscription
    assert snapshot.instances[0].group_id == GROUP_ID
    assert caplog.text == ''  # the status result or the plan's refusal says it, once


def test_group_in_another_subscription_is_read_with_a_client_for_it():
    remote = FakeCompute(groups=[group_json(REMOTE_GROUP_ID, associated=[VMSS_ID + '/virtualMachines/0'])],
                         reservations=[reservation_json('r1', group_id=REMOTE_GROUP_ID)])
    client = FakeCompute(scale_set_json(group=REMOTE_GROUP_ID), [uniform_vm_json(0)])
    asked = []

    snapshot = inspect(client, lambda subscription_id: asked.append(subscription_id) or remote)

    assert asked == [OTHER_SUB_ID]
    assert remote.request_names == ['groups.get', 'reservations.list']
    assert snapshot.instances[0].group_id == REMOTE_GROUP_ID


def test_flexible_members_come_from_one_filtered_list_with_instance_views():
    client = FakeCompute(scale_set_json(FLEXIBLE, upgrade=None),
                         [member_json('vm2', power='deallocated'), member_json('vm1', group=None, power='running')],
                         [group_json()], [reservation_json('r1')])

    snapshot = inspect(client)

    assert client.request_names == ['groups.get', 'reservations.list', 'vms.list', 'vmss.get']
    assert client.requests[1] == ('vms.list', ('MyResourceGroup',), {
        'filter': "'virtualMachineScaleSet/id' eq '{}'".format(VMSS_ID), 'expand': 'instanceView'})
    assert snapshot.scale_set.upgrade_mode == 'Manual'
    assert [(i.name, i.power_state, i.group_id, i.latest_model_applied) for i in snapshot.instances] == [
        ('vm1', 'running', None, None), ('vm2', 'deallocated', GROUP_ID, None)]


def test_flexible_instance_views_the_list_left_out_are_read_in_parallel():
    names = ['vm{}'.format(i) for i in range(3)]
    # Every read waits until all are in flight: reads made one after another would break the barrier.
    barrier = threading.Barrier(len(names), timeout=10)

    def instance_view(resource_group, name):
        assert resource_group == 'MyResourceGroup'
        barrier.wait()
        return models.VirtualMachineInstanceView.deserialize(
            instance_view_json('deallocated' if name == 'vm1' else 'running'))

    client = FakeCompute(scale_set_json(FLEXIBLE), [member_json(n) for n in names], [group_json()],
                         on_instance_view=instance_view)

    snapshot = inspect(client)

    assert client.count('vms.instance_view') == len(names)
    assert [i.power_state for i in snapshot.instances] == ['running', 'deallocated', 'running']


@pytest.mark.parametrize('groups, in_play', [((GROUP_ID, GROUP_ID.upper()), GROUP_ID), ((GROUP_ID, None), None)])
def test_flexible_without_profile_reads_the_group_its_members_share(groups, in_play):
    client = FakeCompute(scale_set_json(FLEXIBLE, profile=False, upgrade=None),
                         [member_json('vm{}'.format(i), group=g, power='running') for i, g in enumerate(groups)],
                         [group_json()], [reservation_json('r1')])

    snapshot = inspect(client)

    assert snapshot.scale_set.has_vm_profile is False
    assert snapshot.group_source == 'members'
    assert snapshot.group_id == in_play
    # half detached, no group is in play; the group the members still hold is read for its reservations
    assert client.count('groups.get') == 1 and snapshot.group.id == GROUP_ID


@pytest.mark.parametrize('code, message', [
    ('ResourceNotFound', "Scale set 'MyScaleSet' was not found in resource group 'MyResourceGroup'."),
    ('ResourceGroupNotFound', "Resource group 'MyResourceGroup' was not found.")])
def test_missing_scale_set_or_resource_group_raises_resource_not_found(code, message):
    client = FakeCompute(errors={'vmss.get': not_found(code), 'vms.get': not_found()})

    with pytest.raises(ResourceNotFoundError) as error:
        inspect(client)

    assert error.value.error_msg == message
    assert error.value.recommendations
    # a missing scale set: is the name a virtual machine's?
    assert client.request_names == (['vmss.get'] if code == 'ResourceGroupNotFound' else ['vms.get', 'vmss.get'])


@pytest.mark.parametrize('member_of, text', [(None, "'MyScaleSet' is a virtual machine, not a scale set"),
                                             (VMSS_ID, "'MyScaleSet' is a virtual machine, a member of scale set "
                                                       "'MyScaleSet'")])
def test_name_of_a_virtual_machine_says_so(member_of, text):
    vm = dict(member_json('MyScaleSet'), properties={'virtualMachineScaleSet': {'id': member_of}} if member_of
              else {})
    client = FakeCompute(vms=[vm], errors={'vmss.get': not_found()})

    with pytest.raises(ResourceNotFoundError) as error:
        inspect(client)

    assert text in error.value.error_msg


def test_instance_found_nowhere_stays_unknown_when_the_search_could_not_see_the_unreadable_model_group():
    remote = FakeCompute(errors={'groups.get': forbidden()})
    client = FakeCompute(scale_set_json(group=REMOTE_GROUP_ID), [uniform_vm_json(0)], [group_json(OLD_GROUP_ID)])

    snapshot = inspect(client, lambda subscription_id: remote)

    assert snapshot.group_error.status_code == 403 and snapshot.lookup_error is None
    assert client.count('groups.list_by_subscription') == 2  # created in, and shared with, the subscription
    assert snapshot.instances[0].group_id is None
    assert snapshot.instances[0].group_known is False


def test_block_group_and_its_reservations_schedules_are_read(tmp_path):
    block = dict(group_json(), properties=dict(group_json()['properties'], reservationType='Block'))
    scheduled = reservation_json('r1')
    scheduled['properties']['scheduleProfile'] = {'start': '2025-08-01T12:00:00Z', 'end': '2025-08-02T11:30:00Z'}
    client = FakeCompute(scale_set_json(), [uniform_vm_json(0)], [block], [scheduled])

    cli_ctx = SimpleNamespace(config=SimpleNamespace(config_dir=str(tmp_path)))
    result = show_status(SimpleNamespace(cli_ctx=cli_ctx), client, 'MyResourceGroup', 'MyScaleSet')

    assert result['capacityReservationGroupType'] == 'Block'
    assert result['reservations'][0]['schedule'] == {'start': '2025-08-01T12:00:00Z', 'end': '2025-08-02T11:30:00Z'}
    assert client.count('reservations.get') == 1  # a Targeted group's reservations are not read one by one


def test_status_warns_about_an_overallocated_reservation(caplog, tmp_path):
    vm_ids = [VMSS_ID + '/virtualMachines/{}'.format(i) for i in range(3)]
    client = FakeCompute(scale_set_json(), [uniform_vm_json(i) for i in range(3)],
                         [group_json(associated=vm_ids, allocated={'r1': vm_ids})],
                         [reservation_json('r1', capacity=2, associated=vm_ids)])

    with caplog.at_level(logging.WARNING):
        cli_ctx = SimpleNamespace(config=SimpleNamespace(config_dir=str(tmp_path)))
        result = show_status(SimpleNamespace(cli_ctx=cli_ctx), client, 'MyResourceGroup', 'MyScaleSet')

    assert result['state'] == 'attached'
    assert result['reservations'][0]['overallocated'] is True
    assert 'r1 is overallocated: 3 virtual machines allocated for a capacity of 2' in caplog.text


def test_a_stale_instance_on_a_group_shared_from_another_subscription_is_found():
    vm1 = VMSS_ID + '/virtualMachines/1'
    remote = dict(group_json(REMOTE_GROUP_ID, associated=[vm1]), name='MyGroup')
    other = FakeCompute(groups=[remote], reservations=[reservation_json('r1')])
    client = FakeCompute(scale_set_json(group=None), [uniform_vm_json(0), uniform_vm_json(1, latest=False)],
                         shared=[REMOTE_GROUP_ID])

    snapshot = inspect(client, lambda subscription_id: other)

    assert [i.group_id for i in snapshot.instances] == [None, REMOTE_GROUP_ID]
    assert all(i.group_known for i in snapshot.instances) and snapshot.lookup_error is None
    assert [kw for name, _, kw in client.requests if name == 'groups.list_by_subscription'][1] == {
        'resource_ids_only': 'SharedWithSubscription'}
