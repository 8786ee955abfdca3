#!/usr/bin/env bash
# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
# Run an azdev command (`linter`, `style`, `verify license`) against this checkout, offline.
# Usage: .ci/azdev.sh AZDEV_ARGS...   (the Makefile's lint, style and license targets; needs .venv-dev)
#
# azdev works on an azure-cli-extensions clone set up by `azdev setup`. This builds the smallest one in a temporary
# directory, from the checkout: src/vmsscrg/ (setup.py, HISTORY.rst, LICENSE, linter_exclusions.yml, the
# extension, its scenario tests and cassettes under azext_vmsscrg/tests/latest as in that repository, and the
# egg-info azdev finds extensions by), azdev's own pylintrc and .flake8 at the root (what `azdev setup` copies), and
# a git history of two commits, an empty base and the extension, so that the linter's test-coverage rules, which
# read a diff, see every command and parameter as new. An azure-cli directory holding only scripts/ci/cmdcov.yml
# (.ci/azdev-cmdcov.yml) stands for the CLI repository; the CLI itself is the one installed in .venv-dev.
# .ci/azdev_offline.py keeps azdev off the network; ~/.azure and ~/.azdev are not touched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV="$ROOT/.venv-dev/bin"
T=$(mktemp -d)
trap '[ -n "${AZDEV_KEEP:-}" ] || rm -rf "$T"' EXIT
EXT="$T/azure-cli-extensions"
SRC="$EXT/src/vmsscrg"
mkdir -p "$T/azure-cli/scripts/ci" "$SRC" "$T/azdev" "$T/azure" "$T/cliextensions"
cp "$ROOT/.ci/azdev-cmdcov.yml" "$T/azure-cli/scripts/ci/cmdcov.yml"

CONFIG=$("$DEV/python" -c 'import azdev, os; print(os.path.join(os.path.dirname(azdev.__file__), "config"))')
cp "$CONFIG/ext_pylintrc" "$EXT/pylintrc"
cp "$CONFIG/ext.flake8" "$EXT/.flake8"
git -C "$EXT" init -q
git -C "$EXT" add -A
git -C "$EXT" -c user.name=azdev -c user.email=azdev@localhost commit -q -m base

cp "$ROOT/setup.py" "$ROOT/HISTORY.rst" "$ROOT/LICENSE" "$ROOT/linter_exclusions.yml" "$SRC/"
(cd "$ROOT" && tar cf - --exclude=__pycache__ azext_vmsscrg) | tar xf - -C "$SRC"
mkdir -p "$SRC/azext_vmsscrg/tests/latest"
(cd "$ROOT/tests/scenario" && tar cf - --exclude=__pycache__ .) | tar xf - -C "$SRC/azext_vmsscrg/tests/latest"
touch "$SRC/azext_vmsscrg/tests/__init__.py" "$SRC/azext_vmsscrg/tests/latest/__init__.py"
git -C "$EXT" add -A
git -C "$EXT" -c user.name=azdev -c user.email=azdev@localhost commit -q -m vmsscrg
(cd "$SRC" && "$DEV/python" setup.py -q egg_info >/dev/null 2>&1 && rm -rf build)

# what `azdev setup` records (knack reads it from $AZDEV_CONFIG_DIR/config)
printf '[cli]\nrepo_path = %s\n\n[ext]\nrepo_paths = %s\n' "$T/azure-cli" "$EXT" > "$T/azdev/config"

# the linter's coverage rules compare the two commits
if [ "${1:-}" = linter ]; then set -- "$@" --repo "$EXT" --src HEAD --tgt HEAD~1; fi
cd "$T"
env -u CONDA_PREFIX VIRTUAL_ENV="$ROOT/.venv-dev" PATH="$DEV:$PATH" AZDEV_CONFIG_DIR="$T/azdev" \
    AZURE_CONFIG_DIR="$T/azure" AZURE_EXTENSION_DIR="$T/cliextensions" AZURE_EXTENSION_DEV_SOURCES="$EXT/src" \
    AZURE_CORE_COLLECT_TELEMETRY=0 "$DEV/python" "$ROOT/.ci/azdev_offline.py" "$@"
