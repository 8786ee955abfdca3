# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Users never see our internals: no simulator rule id and no reference file name in any string of the extension
(messages, plan reasons, help, docstrings). Reasons cite the public Azure documentation instead."""
import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTENSION = os.path.join(ROOT, 'azext_vmsscrg')
INTERNAL = re.compile(r'rule [A-Z][0-9]|\b[\w.-]+\.md\b|\.\./shared|simulator-rules|arm-semantics')


def strings(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def sources():
    return sorted(os.path.join(d, f) for d, _, files in os.walk(EXTENSION) for f in files if f.endswith('.py'))


@pytest.mark.parametrize('path', sources(), ids=lambda p: os.path.relpath(p, ROOT))
def test_no_rule_ids_or_reference_files_in_strings(path):
    found = ['{}: {!r}'.format(line, text) for line, text in strings(path) if INTERNAL.search(text)]
    assert found == []


def test_the_check_finds_what_it_looks_for():
    assert INTERNAL.search('refused (rule A8)') and INTERNAL.search('see remove-vmss-from-group.md option 1')
    assert not INTERNAL.search('see "Capacity reservation overview" (https://learn.microsoft.com/azure/x)')
    assert len(sources()) > 10
