# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The fast cut of the readings matrix (tests/e2e/readings.py): every reading of every decision rule, with the
scenario its question matters most to, end state through stock az. `make readings` runs the whole matrix."""
import contextlib

import pytest

from conftest import sim_up
from readings import EXPECTED_FAIL, FAST, overrides, readings, run_cell


def cells():
    for reading in readings():
        scenario = FAST[reading]
        reason = EXPECTED_FAIL.get((reading, scenario))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(reading, scenario, marks=marks, id="{}-{}".format(reading, scenario))


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    """One simulator at a time, started with the reading the test asks for (tests come grouped by reading)."""
    with contextlib.ExitStack() as stack:
        current = {}

        def get(reading):
            if reading not in current:
                stack.close()
                current.clear()
                directory = str(tmp_path_factory.mktemp("readings"))
                current[reading] = stack.enter_context(sim_up(directory, rule_overrides=overrides(reading),
                                                              pause_scale=0.01))
            return current[reading]
        yield get


def test_every_reading_is_in_the_fast_cut():
    assert sorted(FAST) == sorted(readings())


@pytest.mark.parametrize("reading, scenario", list(cells()))
def test_reading(sims, reading, scenario):
    cell = run_cell(sims(reading), reading, scenario)
    assert cell.passed, cell.error
