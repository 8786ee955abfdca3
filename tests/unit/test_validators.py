# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_vmsscrg._validators import validate_resource_group_name, validate_vmss_name


@pytest.mark.parametrize('name', ['a', 'A', '7', 'MyScaleSet', 'my-scale_set.01', 'vmss_', 'a' * 64, 'a.-_b'])
def test_valid_names_pass(name):
    validate_vmss_name(SimpleNamespace(vm_scale_set_name=name))


@pytest.mark.parametrize('name', [
    '',              # too short
    'a' * 65,        # too long
    '-vmss', '_vmss', '.vmss',  # must start with a letter or digit
    'vmss-', 'vmss.',           # must end with a letter, digit or underscore
    'my vmss', 'vmss!', 'a/b', 'vmss#1', 'vmßs',  # characters outside the set
    'vmss\n',        # a trailing newline must not slip past the pattern
])
def test_invalid_names_raise_naming_the_flag(name):
    with pytest.raises(InvalidArgumentValueError) as error:
        validate_vmss_name(SimpleNamespace(vm_scale_set_name=name))

    assert '--name' in error.value.error_msg
    assert error.value.recommendations


def test_names_from_ids_are_each_checked():
    validate_vmss_name(SimpleNamespace(vm_scale_set_name=['vmss1', 'vmss2']))
    with pytest.raises(InvalidArgumentValueError, match="--name 'bad-'"):
        validate_vmss_name(SimpleNamespace(vm_scale_set_name=['vmss1', 'bad-']))


@pytest.mark.parametrize('name', ['rg', 'My_Group-1.(prod)', 'a' * 90, 'grüppe', '-rg'])
def test_valid_resource_groups_pass(name):
    validate_resource_group_name(SimpleNamespace(resource_group_name=name))


@pytest.mark.parametrize('name', ['', 'a' * 91, 'rg.', 'rg/providers', '../x', 'rg?api-version=1', 'rg#', 'my rg',
                                  'rg\n', 'rg%2Fx'])
def test_invalid_resource_groups_raise_naming_the_flag(name):
    with pytest.raises(InvalidArgumentValueError) as error:
        validate_resource_group_name(SimpleNamespace(resource_group_name=name))
    assert '--resource-group' in error.value.error_msg and error.value.recommendations


def test_a_group_name_with_ids_resolves_in_their_one_resource_group(monkeypatch):
    import azure.cli.core.commands.client_factory as factory
    from azure.cli.core.azclierror import ArgumentUsageError
    from azext_vmsscrg._validators import _validate_group
    monkeypatch.setattr(factory, 'get_subscription_id', lambda cli_ctx: '00000000-0000-0000-0000-000000000001')
    cmd = SimpleNamespace(cli_ctx=None)
    ns = SimpleNamespace(capacity_reservation_group='g', resource_group_name=['rg', 'RG'])
    _validate_group(cmd, ns)
    assert ns.capacity_reservation_group == ('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/'
                                             'RG/providers/Microsoft.Compute/capacityReservationGroups/g')
    with pytest.raises(ArgumentUsageError, match='2 resource groups'):
        _validate_group(cmd, SimpleNamespace(capacity_reservation_group='g', resource_group_name=['a', 'b']))
