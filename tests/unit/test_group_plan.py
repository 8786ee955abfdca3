# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The pure parts of the group-wide commands: the combined plan, the status result, the flag checks."""
from dataclasses import replace
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import ArgumentUsageError, RequiredArgumentMissingError

from azext_vmsscrg import plan as p
from azext_vmsscrg._format import transform_move_table, transform_status_table
from azext_vmsscrg._validators import validate_detach, validate_status
from azext_vmsscrg.group import Members, build_group_status, delete_commands, plan_group
from azext_vmsscrg.snapshot import FLEXIBLE, UNIFORM, Instance, ReadError, ScaleSet, Snapshot

from test_plan import A, SUB, group, instance, scale_set

VMS_RG = ScaleSet(id=A + '/virtualMachines/rg', name='virtual machines of rg', resource_group='rg',
                  orchestration_mode=FLEXIBLE, upgrade_mode='Manual', zones=(), sku_name=None, capacity=None,
                  has_vm_profile=False, model_group_id=None, member_ids=(SUB + '/virtualMachines/vm1',))


def vm(name, power='running', group_id=A):
    return Instance(id=SUB + '/virtualMachines/' + name, name=name, instance_id=None, power_state=power,
                    latest_model_applied=None, group_id=group_id, size='Standard_D2s_v3')


def landscape(grp):
    uniform = Snapshot(scale_set(policy='Automatic'), (instance(0), instance(1, power='deallocated')), grp)
    standalone = Snapshot(VMS_RG, (vm('vm1'), vm('vm2', power='stopped')), grp)
    return [uniform, standalone]


def test_deallocate_plans_each_unit_as_its_single_detach():
    grp = group()
    snapshots = landscape(grp)
    first, plans = plan_group(grp, snapshots, p.Intent('detach'), [(), ()])
    assert first == ()
    assert plans[0] == p.make_plan(snapshots[0], p.Intent('detach'))
    # standalone VMs as Flexible members: deallocated, cleared, started again only if they ran
    assert [(s.action, s.targets) for s in plans[1].steps] == [
        ('deallocate', ('vm1',)), ('setVmGroup', ('vm1',)), ('start', ('vm1',)),
        ('deallocate', ('vm2',)), ('setVmGroup', ('vm2',))]


def test_zero_capacity_sets_every_reservation_to_zero_once_and_needs_no_force():
    grp = group(zones=('1', '2'), associated=[instance(0).id, SUB + '/virtualMachines/vm1'])
    first, plans = plan_group(grp, landscape(grp), p.Intent('detach', strategy='zero-capacity'), [(), ()])
    assert [(s.action, s.targets, s.capacity) for s in first] == [
        ('setReservationCapacity', (r.id,), 0) for r in grp.reservations]
    assert not any(s.action in ('setReservationCapacity', 'deallocate') for pl in plans for s in pl.steps)


def test_zero_capacity_with_nothing_on_the_group_touches_no_reservation():
    grp = group()
    empty = [Snapshot(VMS_RG, (vm('vm1', group_id=None),), grp)]
    first, plans = plan_group(grp, empty, p.Intent('detach', strategy='zero-capacity'), [()])
    assert first == () and plans[0].is_noop()


def test_an_interrupted_run_restarts_what_it_recorded():
    grp = group()
    down = [Snapshot(VMS_RG, (vm('vm1', power='deallocated', group_id=None),), grp)]
    _, plans = plan_group(grp, down, p.Intent('detach'), [{'vm1'}])
    assert [(s.action, s.targets) for s in plans[0].steps] == [('start', ('vm1',))]


def status_of(grp, scale_sets=(), vms=(), unreadable=()):
    members = Members(grp, ('00000000-0000-0000-0000-000000000002',), (), (), tuple(unreadable))
    return build_group_status(members, list(scale_sets), list(vms))


def test_status_names_what_blocks_the_delete():
    ss = {'name': 'ss', 'state': 'attached', 'modelOnGroup': True, 'instancesOnGroup': 2, 'orchestrationMode': UNIFORM,
          'upgradePolicy': 'Automatic', 'summary': {'instances': 2}}
    vm1 = {'name': 'vm1', 'powerState': 'running', 'capacityReservationGroup': A}
    gone = ReadError('/subscriptions/other/resourceGroups/x/providers/Microsoft.Compute/virtualMachines/v', 403,
                     'AuthorizationFailed', 'no access')
    result = status_of(group(), [ss], [vm1], [gone])
    assert result['deletable'] is False
    assert len(result['blockers']) == 4
    assert result['unreadable'][0]['status'] == 403
    assert result['nextAction'].startswith('az vmss capacity-reservation detach -g rg --crg a --yes')
    rows = transform_status_table(result)
    assert [r['Kind'] for r in rows] == ['group', 'reservation', 'scale set', 'vm', 'shared with', 'unreadable']


def test_status_of_an_empty_group_gives_the_delete_commands():
    grp = replace(group(), reservations=())
    result = status_of(grp)
    assert result['deletable'] is True and result['blockers'] == []
    assert result['nextAction'].endswith('az capacity reservation group delete -g rg -n a --yes')
    assert delete_commands(group()) == ['az capacity reservation delete -g rg -c a -n r --yes',
                                        'az capacity reservation group delete -g rg -n a --yes']


def test_move_table_of_a_group():
    result = {'capacityReservationGroup': A, 'groupDeleted': True, 'status': None, 'steps': [
        dict(p.Step('start', ('vm1',), 'why').to_dict(), target='standalone VMs in rg', outcome='succeeded')]}
    rows = transform_move_table(result)
    assert rows[0]['Target'] == 'standalone VMs in rg' and rows[-1]['Action'] == 'state: group deleted'


def namespace(**kw):
    values = dict(resource_group_name='rg', vm_scale_set_name=None, capacity_reservation_group='g',
                  strategy='deallocate', force=False, leave_deallocated=False, max_unavailable=20, concurrency=None,
                  delete_group=False)
    values.update(kw)
    return SimpleNamespace(**values)


def cmd():
    config = SimpleNamespace(get=lambda section, key, fallback=None: fallback)
    return SimpleNamespace(cli_ctx=SimpleNamespace(config=config, data={'subscription_id': '0000'}))


@pytest.mark.parametrize('validate', [validate_status, validate_detach])
def test_name_with_crg_is_refused_naming_both_flags(validate):
    with pytest.raises(ArgumentUsageError, match='--name and --crg'):
        validate(cmd(), namespace(vm_scale_set_name='ss'))


@pytest.mark.parametrize('validate', [validate_status, validate_detach])
def test_a_group_name_needs_the_resource_group(validate):
    with pytest.raises(RequiredArgumentMissingError, match='--resource-group'):
        validate(cmd(), namespace(resource_group_name=None))


@pytest.mark.parametrize('validate', [validate_status, validate_detach])
def test_neither_name_nor_crg_is_refused(validate):
    with pytest.raises(RequiredArgumentMissingError, match='--crg'):
        validate(cmd(), namespace(capacity_reservation_group=None))


def test_delete_group_needs_crg():
    with pytest.raises(ArgumentUsageError, match='--delete-group'):
        validate_detach(cmd(), namespace(capacity_reservation_group=None, vm_scale_set_name='ss', delete_group=True))


def test_a_group_id_needs_no_resource_group():
    ns = namespace(resource_group_name=None, capacity_reservation_group=A)
    validate_detach(cmd(), ns)
    assert ns.capacity_reservation_group == A and ns.vm_scale_set_name is None


def refusal(code):
    from azure.core.exceptions import HttpResponseError
    ex = HttpResponseError(message=code)
    ex.error = SimpleNamespace(code=code, message='refused')
    ex.status_code = 409
    return ex


def test_a_delete_refused_while_azure_still_lists_nested_resources_is_tried_again():
    from azext_vmsscrg.group import _retry_delete
    answers = [refusal('CannotDeleteResource'), refusal('OperationNotAllowed'), None]
    slept = []

    def delete():
        answer = answers.pop(0)
        if answer is not None:
            raise answer
    _retry_delete(delete, 'Deleting group g', slept.append, lambda: 0.0)
    assert answers == [] and slept == [2.0, 4.0]


def test_a_delete_refused_for_good_is_not_tried_again():
    from azure.cli.core.azclierror import AzureResponseError
    from azext_vmsscrg.group import _retry_delete

    def delete():
        raise refusal('AuthorizationFailed')
    with pytest.raises(AzureResponseError, match='AuthorizationFailed'):
        _retry_delete(delete, 'Deleting group g', lambda _: None, lambda: 0.0)
