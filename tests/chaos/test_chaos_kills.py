"""Kills: detach and attach killed with SIGKILL after random delays (mid-request, mid-poll, between steps),
then re-run until they succeed, with the invariants of chaos_runs. KILL_SEEDS=N for more seeds (make chaos)."""
import os

import pytest

from conftest import sim_up
from chaos_runs import Report, kill_seed, seeds


@pytest.fixture(scope="module")
def kill_sim(tmp_path_factory):
    lro = float(os.environ.get("KILL_LRO_SECONDS", "2"))
    with sim_up(str(tmp_path_factory.mktemp("armsim-kills")), lro_seconds=lro) as sim:
        yield sim


def test_killed_at_random_moments_then_rerun_nothing_lost(kill_sim):
    report = Report("kills")
    for number in seeds("KILL_SEEDS", "4"):
        kill_seed(kill_sim, number, report)
    print(report.summary())
    assert report.violations == [], report.summary()
    assert report.exits["killed"] > 0, report.summary()
