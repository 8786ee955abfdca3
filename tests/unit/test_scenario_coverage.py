# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Every option of every command is used by at least one recorded scenario test (tests/scenario). azdev's
missing_parameter_test_coverage rule means the same, but stops checking after the first parameter it finds used."""
import ast
import inspect
from pathlib import Path

import pytest
from azure.cli.core.mock import DummyCli

from azext_vmsscrg import COMMAND_LOADER_CLS, custom

SCENARIOS = Path(__file__).parents[1] / 'scenario'
GROUP = 'vmss capacity-reservation'


def scenario_commands():
    """The command strings of every self.cmd(...) in the scenario tests, with implicit concatenation resolved."""
    found = []
    for path in SCENARIOS.glob('test_scenario_*.py'):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Call) and getattr(node.func, 'attr', None) == 'cmd' and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append(node.args[0].value.split())
    return found


def options(command):
    loader = COMMAND_LOADER_CLS(cli_ctx=DummyCli())
    loader.skip_applicability = True
    loader.load_arguments(command)
    registered = {}
    for scope, arguments in loader.argument_registry.arguments.items():
        if command.startswith(scope):
            for dest, argument in arguments.items():
                registered[dest] = argument.settings.get('options_list') or registered.get(dest)
    handler = {'status': custom.show_status, 'attach': custom.attach, 'detach': custom.detach}[command.split()[-1]]
    params = [p for p in inspect.signature(handler).parameters if p not in ('cmd', 'client')]
    return {p: registered.get(p) or ['--' + p.replace('_', '-')] for p in params}


@pytest.mark.parametrize('name', ['status', 'attach', 'detach'])
def test_every_option_is_used_in_a_scenario_test(name):
    command = GROUP + ' ' + name
    runs = [words for words in scenario_commands() if ' '.join(words[:3]) == command]
    unused = sorted(dest for dest, names in options(command).items()
                    if not any(option in words for words in runs for option in names))

    assert runs and unused == []
