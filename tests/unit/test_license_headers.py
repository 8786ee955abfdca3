# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Every Python file carries the licence header: azdev's (`azdev verify license`) with this project's copyright
holder and licence file. azdev itself accepts only Microsoft Corporation's copyright line, so this is the check."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
HEADER = ("# --------------------------------------------------------------------------------------------\n"
          "# Copyright (c) vmsscrg maintainers. All rights reserved.\n"
          "# Licensed under the MIT License. See LICENSE in the project root for license information.\n"
          "# --------------------------------------------------------------------------------------------\n")


def python_files():
    listed = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '*.py'], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return {name: (ROOT / name).read_text(encoding='utf-8') for name in listed if (ROOT / name).is_file()}


def test_every_python_file_starts_with_the_licence_header():
    files = python_files()
    missing = sorted(name for name, text in files.items()
                     if text.strip() and not after_shebang(text).startswith(HEADER))

    assert len(files) > 80 and missing == []


def after_shebang(text):
    return text.split('\n', 1)[1] if text.startswith('#!') else text
