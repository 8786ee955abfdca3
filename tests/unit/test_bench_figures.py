# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The benchmark's derived figures: the buckets' floor, rates, 429s by kind, estimates of the baselines, and the
table that shows them. Pure functions on hand-made runs; the runs themselves come from `make bench`."""
from armsim import throttle
from bench import report, run
from bench.sim import counts

REQUESTS = {"GET": 6024, "PUT": 0, "PATCH": 1000, "POST": 2000, "DELETE": 0, "429": 0, "429_by": {}}


def test_the_floor_is_the_requests_beyond_each_bucket_over_its_refill_rate():
    floor = run._floor(REQUESTS, throttle.DOCUMENTED)
    assert floor == {"reads": round((6024 - 250) / 25, 1), "writes": 280.0, "deletes": 0.0}
    assert run._floor(dict(REQUESTS, GET=100, PATCH=10, POST=20), throttle.DOCUMENTED)["writes"] == 0


def test_rates_count_deletes_as_writes():
    assert run._rates(dict(REQUESTS, DELETE=1000), 40) == {"reads": 150.6, "writes": 100.0}


def test_429s_are_counted_by_what_refused_them():
    entries = [{"method": "GET", "path": "/subscriptions/s/x", "status": 429, "throttled": "reads"},
               {"method": "POST", "path": "/subscriptions/s/y", "status": 429, "throttled": "compute"},
               {"method": "GET", "path": "/subscriptions/s/x", "status": 429, "fault": "throttle"},
               {"method": "GET", "path": "/subscriptions/s/x", "status": 200}]
    out = counts(entries)
    assert out["GET"] == 3 and out["429"] == 3
    assert out["429_by"] == {"reads": 1, "compute": 1, "fault": 1}


def row(n, ours, doc=None, expert=None):
    return {"scenario": "detach", "mode": "Flexible", "n": n, "ours": {"seconds": ours, "runs": [ours],
                                                                       "requests": REQUESTS},
            "documented": {"seconds": doc} if doc else {"seconds": None, "estimated": True},
            "expert": {"seconds": expert} if expert else {"seconds": None, "estimated": True},
            "critical_path_ops": 15, "lro_seconds": 2, "limit_seconds": 30, "over_limit": 1.0,
            "bucket_floor_seconds": {"reads": 230.9, "writes": 280.0, "deletes": 0.0}}


def test_baselines_not_run_are_estimated_per_member_and_their_ratios_are_theirs_over_ours():
    rows = run.estimate([row(100, 30, doc=800, expert=200), row(1000, 40)])
    assert rows[0]["ratio"] == round(800 / 30, 2) and rows[0]["expert_ratio"] == round(200 / 30, 2)
    assert rows[1]["documented"]["seconds"] == 8000 and rows[1]["documented"]["invocations"] == 3000
    assert rows[1]["expert"]["seconds"] == 2000 and rows[1]["expert_ratio"] == 50.0
    assert "invocations" not in rows[1]["expert"]


def test_the_table_shows_the_floor_rates_expert_and_429s_by_kind():
    r = run.estimate([row(100, 30, doc=800, expert=200)])[0]
    r["ours"]["per_second"] = {"reads": 200.8, "writes": 100.0}
    r["ours"]["requests"] = dict(REQUESTS, **{"429_by": {"writes": 3, "compute": 1}})
    results = {"meta": {"lro_seconds": 2, "repeat": 1, "short_seconds": 30, "doc_flexible_max": 100,
                        "expert_max": 100},
               "passes": [{"name": "arm-limits", "arm_limits": "on", "rows": [r]}]}
    text = report.table(results)
    line = text.splitlines()[2]
    for cell in ("200.0", "6.67x", "230.9/280/0", "200.8 100", "0/3/0/1"):
        assert cell in line, (cell, line)
    assert "arm-limits: armsim --arm-limits on" in text
