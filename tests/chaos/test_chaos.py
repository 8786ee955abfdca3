# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Chaos: detach and attach on Uniform and Flexible scale sets under injected faults, and killed with SIGKILL
after random delays (mid-request, mid-poll, between steps), each re-run until it succeeds, with the invariants of
chaos_runs checked after every exit 0. CHAOS_SEEDS=N and KILL_SEEDS=N for more seeds (make chaos); CHAOS_SCARCITY=N
(2 by default) seeds with on-demand capacity short."""
import os

import pytest

from conftest import sim_up
from chaos_runs import FAULTS, Report, chaos_seed, kill_seed, seeds


def started(tmp_path_factory, name, lro_variable, lro_default):
    lro = float(os.environ.get(lro_variable, lro_default))
    return sim_up(str(tmp_path_factory.mktemp(name)), lro_seconds=lro)


@pytest.fixture(scope="module")
def chaos_sim(tmp_path_factory):
    with started(tmp_path_factory, "armsim-chaos", "CHAOS_LRO_SECONDS", "0") as sim:
        yield sim


@pytest.fixture(scope="module")
def kill_sim(tmp_path_factory):
    with started(tmp_path_factory, "armsim-kills", "KILL_LRO_SECONDS", "2") as sim:
        yield sim


def test_chaos_under_faults_nothing_lost(chaos_sim):
    report = Report("chaos, faults " + FAULTS)
    for number in seeds("CHAOS_SEEDS", "4"):
        chaos_seed(chaos_sim, number, report)
    print(report.summary())
    assert report.violations == [], report.summary()
    assert sum(report.faults.values()) > 0, report.summary()


def test_chaos_with_capacity_short_nothing_left_down(chaos_sim):
    report = Report("chaos with on-demand capacity short, faults " + FAULTS)
    for number in seeds("CHAOS_SCARCITY", "2"):
        chaos_seed(chaos_sim, number, report, short=True)
    print(report.summary())
    assert report.violations == [], report.summary()
    assert report.allocation_failures > 0, report.summary()


def test_killed_at_random_moments_then_rerun_nothing_lost(kill_sim):
    report = Report("kills")
    for number in seeds("KILL_SEEDS", "4"):
        kill_seed(kill_sim, number, report)
    print(report.summary())
    assert report.violations == [], report.summary()
    assert report.exits["killed"] > 0, report.summary()
