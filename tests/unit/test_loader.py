# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The loader, the command table and the help, as the CLI sees them."""
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from azure.cli.core.azclierror import ResourceNotFoundError
from azure.cli.core.commands.command_operation import ShowCommandOperation
from azure.cli.core.mock import DummyCli
from azure.cli.core.util import handle_exception
from azure.core.exceptions import ResourceNotFoundError as SdkResourceNotFoundError
from knack.help_files import helps

from azext_vmsscrg import COMMAND_LOADER_CLS
from azext_vmsscrg._format import transform_status_table

STATUS = 'vmss capacity-reservation status'


@pytest.fixture(name='status_command')
def status_command_fixture():
    loader = COMMAND_LOADER_CLS(cli_ctx=DummyCli())
    return loader.load_command_table(None)[STATUS]


def test_status_is_a_show_command_with_a_table_transformer(status_command):
    assert isinstance(status_command.command_kwargs['command_operation'], ShowCommandOperation)
    assert status_command.table_transformer is transform_status_table


def test_missing_scale_set_exits_with_code_3(status_command):
    def get(resource_group_name, vm_scale_set_name):
        raise SdkResourceNotFoundError('Not found.')

    operation = status_command.command_kwargs['command_operation']
    operation.client_factory = lambda cli_ctx: SimpleNamespace(virtual_machine_scale_sets=SimpleNamespace(get=get),
                                                               virtual_machines=SimpleNamespace(get=get))

    with pytest.raises(ResourceNotFoundError) as error:
        status_command.handler({'cmd': status_command, 'resource_group_name': 'MyResourceGroup',
                                'vm_scale_set_name': 'MyScaleSet'})

    assert 'MyScaleSet' in error.value.error_msg and 'MyResourceGroup' in error.value.error_msg
    assert handle_exception(error.value) == 3


@pytest.mark.parametrize('entry', ['vmss capacity-reservation', STATUS])
def test_help_is_valid_yaml_with_a_summary(entry):
    assert yaml.safe_load(helps[entry])['short-summary']


def test_status_help_has_runnable_examples():
    examples = yaml.safe_load(helps[STATUS])['examples']

    assert len(examples) >= 2
    for example in examples:  # one scale set, or a whole group (--crg, with -g or by id)
        assert example['text'].startswith(('az ' + STATUS + ' -g MyResourceGroup -n MyScaleSet',
                                           'az ' + STATUS + ' -g MyResourceGroup --crg MyGroup',
                                           'az ' + STATUS + ' --crg /subscriptions/'))


def test_loading_the_extension_imports_no_sdk():
    code = ('import sys, azext_vmsscrg, azext_vmsscrg.commands, azext_vmsscrg._params, azext_vmsscrg._help; '
            'print(sorted(m for m in sys.modules if m.startswith(("azure.mgmt", "azext_vmsscrg.survey"))))')
    loaded = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True,
                            cwd=Path(__file__).parents[2]).stdout

    assert loaded.strip() == '[]'


def test_group_is_preview_while_the_version_is_a_beta():
    import re
    from azext_vmsscrg.commands import is_preview
    version = re.search(r"^VERSION = '(.*)'", (Path(__file__).parents[2] / 'setup.py').read_text(), re.M).group(1)
    loader = COMMAND_LOADER_CLS(cli_ctx=DummyCli())
    loader.load_command_table(None)

    assert is_preview() == bool(re.search(r'(a|b|rc)\d+$', version))
    assert bool(loader.command_group_table['vmss capacity-reservation'].group_kwargs.get('is_preview')) == \
        is_preview()


def test_help_states_no_default_the_cli_also_prints():
    """The CLI appends "Default: X." from the function's signature; the help text must not say it again."""
    loader = COMMAND_LOADER_CLS(cli_ctx=DummyCli())
    loader.skip_applicability = True
    loader.load_arguments('vmss capacity-reservation detach')
    helps_given = {(scope, dest): argument.settings.get('help') or ''
                   for scope, arguments in loader.argument_registry.arguments.items()
                   for dest, argument in arguments.items()}

    assert ('vmss capacity-reservation attach', 'max_unavailable') in helps_given
    assert [key for key, text in helps_given.items() if 'default:' in text.lower()] == []


@pytest.mark.parametrize('command, options', [
    ('detach', ['--dry-run', '--yes', '--max-unavailable', '--leave-deallocated', '--strategy zero-capacity',
                '--force']),
    ('attach', ['--crg', '--dry-run', '--yes', '--max-unavailable', '--concurrency', '--leave-deallocated'])])
def test_examples_show_every_option(command, options):
    texts = ' '.join(e['text'] for e in yaml.safe_load(helps['vmss capacity-reservation ' + command])['examples'])

    for option in options:
        assert option in texts
