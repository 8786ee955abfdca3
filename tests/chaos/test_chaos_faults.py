"""Chaos: detach and attach on Uniform and Flexible scale sets under injected faults, re-run until they succeed,
with the invariants of chaos_runs checked after every exit 0. CHAOS_SEEDS=N for more seeds (make chaos)."""
import os

import pytest

from conftest import sim_up
from chaos_runs import FAULTS, Report, chaos_seed, seeds


@pytest.fixture(scope="module")
def chaos_sim(tmp_path_factory):
    lro = float(os.environ.get("CHAOS_LRO_SECONDS", "0"))
    with sim_up(str(tmp_path_factory.mktemp("armsim-chaos")), lro_seconds=lro) as sim:
        yield sim


def test_chaos_under_faults_nothing_lost(chaos_sim):
    report = Report("chaos, faults " + FAULTS)
    for number in seeds("CHAOS_SEEDS", "4"):
        chaos_seed(chaos_sim, number, report)
    print(report.summary())
    assert report.violations == [], report.summary()
    assert sum(report.faults.values()) > 0, report.summary()
