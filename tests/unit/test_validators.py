from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import InvalidArgumentValueError

from azext_vmsscrg._validators import validate_vmss_name


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
