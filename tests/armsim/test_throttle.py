# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Rule W13, `--write-budget N`: at most N writes per rolling minute, 429 with Retry-After beyond, and counters
that tell whether clients waited for the Retry-After they were given."""
import os

import pytest

from conftest import Sim, sim_up, start_serve
from armsim import rules, throttle


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def vm(n):
    return "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm{}".format(n)


# --- the budget, on a clock of our own ------------------------------------------------------------------------
def test_writes_beyond_the_budget_are_told_when_the_oldest_leaves_the_window():
    clock = Clock()
    budget = throttle.Budget(3, clock=clock)
    for n in range(3):
        assert budget.admit("PATCH", vm(n), "s") is None
        clock.now += 10
    assert budget.admit("PATCH", vm(3), "s") == 30  # the first write, at 1000, leaves the window at 1060
    clock.now = 1060.5
    assert budget.admit("PATCH", vm(3), "s") is None
    assert budget.status()["throttled"] == 1 and budget.status()["accepted"] == 4


def test_retry_after_is_whole_seconds_and_at_least_one():
    clock = Clock()
    budget = throttle.Budget(1, clock=clock)
    budget.admit("POST", vm(0) + "/start", "s")
    clock.now += 59.99
    assert budget.admit("POST", vm(1) + "/start", "s") == 1


def test_a_retry_before_its_retry_after_is_counted_early():
    clock = Clock()
    budget = throttle.Budget(1, clock=clock)
    budget.admit("PUT", vm(0), "s")
    retry = budget.admit("PUT", vm(1), "s")
    clock.now += retry - 0.5
    budget.admit("PUT", vm(1), "s")  # too soon: refused again, and counted
    assert budget.status()["early_retries"] == 1
    clock.now += 61
    assert budget.admit("PUT", vm(1), "s") is None
    assert budget.status()["early_retries"] == 1


def test_other_writes_during_an_announced_retry_after_are_counted_after_a_grace_for_requests_in_flight():
    clock = Clock()
    budget = throttle.Budget(1, clock=clock)
    budget.admit("PUT", vm(0), "s")
    clock.now += 30
    assert budget.admit("PUT", vm(1), "s") == 30
    clock.now += throttle.GRACE / 2
    budget.admit("PUT", vm(2), "s")  # sent before its client could know
    assert budget.status()["writes_during_backoff"] == 0
    clock.now += throttle.GRACE
    budget.admit("PUT", vm(3), "s")
    assert budget.status()["writes_during_backoff"] == 1
    clock.now += 31
    budget.admit("PUT", vm(4), "s")
    assert budget.status()["writes_during_backoff"] == 1


def test_reset_empties_the_window_and_the_counters():
    budget = throttle.Budget(1, clock=Clock())
    budget.admit("PUT", vm(0), "s")
    budget.admit("PUT", vm(1), "s")
    budget.reset()
    assert budget.admit("PUT", vm(1), "s") is None
    assert budget.status() == dict(accepted=1, throttled=0, early_retries=0, writes_during_backoff=0, writes=1,
                                   windowSeconds=60.0, remaining=0)


@pytest.mark.parametrize("text, parsed", [("600", (600, 60.0)), ("1200/3600", (1200, 3600.0)), ("2/3", (2, 3.0)),
                                          (None, None), ("0", None), ("", None)])
def test_the_option_is_writes_per_minute_or_per_given_seconds(text, parsed):
    assert throttle.parse(text) == parsed


@pytest.mark.parametrize("text", ["-1", "x", "3/0", "3/x"])
def test_a_bad_option_is_a_clear_error(text):
    with pytest.raises(throttle.BudgetOptionError, match="--write-budget"):
        throttle.parse(text)


class Req:
    def __init__(self, method, path):
        self.method, self.path = method, path


def test_only_writes_under_subscriptions_are_throttled():
    budget = throttle.Budget(1, clock=Clock())
    assert throttle.check(budget, Req("PUT", vm(0))) is None
    status, body, headers = throttle.check(budget, Req("DELETE", vm(1)))
    assert status == 429 and headers["Retry-After"] >= 1
    error = body["error"]
    assert error["code"] == "SubscriptionRequestsThrottled" and "W13" in error["message"]
    for method, path in (("GET", vm(2)), ("POST", "/tenant/oauth2/v2.0/token"), ("POST", "/simulator/reset")):
        assert throttle.check(budget, Req(method, path)) is None
    assert throttle.check(None, Req("PUT", vm(3))) is None


def test_the_rule_is_in_the_table_as_a_decision():
    rule = rules.BY_ID["W13"]
    assert rule.provenance == "decision" and rules.resolve(rule) is throttle.check


# --- the option, end to end ------------------------------------------------------------------------------------
def rg(sim, name):
    return "/subscriptions/{}/resourceGroups/{}".format(sim.sub, name)


@pytest.fixture()
def budget_sim(tmp_path):
    proc = start_serve(str(tmp_path / "sim"), "--write-budget", "3")
    try:
        yield Sim(str(tmp_path / "sim"), proc)
    finally:
        proc.terminate()
        proc.wait(10)


def test_w13_serve_with_a_write_budget_answers_429_with_retry_after(budget_sim):
    c = budget_sim.client
    for n in range(3):
        assert c.call("PUT", rg(budget_sim, "t{}".format(n)), {"location": "eastus"})[0] in (200, 201)
    status, headers, body = c.call("PUT", rg(budget_sim, "t3"), {"location": "eastus"})
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
    assert body["error"]["code"] == "SubscriptionRequestsThrottled"
    assert c.call("GET", rg(budget_sim, "t0"))[0] == 200  # reads go on
    counters = c.call("GET", "/simulator/throttle", auth=False)[2]
    assert counters["accepted"] == 3 and counters["throttled"] == 1 and counters["writes"] == 3
    c.call("PUT", rg(budget_sim, "t3"), {"location": "eastus"})  # again at once: early
    assert c.call("GET", "/simulator/throttle", auth=False)[2]["early_retries"] == 1
    assert c.call("DELETE", "/simulator/throttle", auth=False)[2]["accepted"] == 0
    assert c.call("PUT", rg(budget_sim, "t3"), {"location": "eastus"})[0] in (200, 201)
    log = budget_sim.requests()["requests"]
    assert [e["status"] for e in log if e["method"] == "PUT"].count(429) == 2
    assert next(r for r in c.call("GET", "/simulator/rules", auth=False)[2]["rules"] if r["id"] == "W13")["enabled"]


def test_without_a_budget_nothing_is_throttled(http_sim):
    for n in range(5):
        assert http_sim.client.call("PUT", rg(http_sim, "f{}".format(n)), {"location": "eastus"})[0] in (200, 201)
    assert http_sim.client.call("GET", "/simulator/throttle", auth=False)[0] == 404


def test_up_threads_the_budget_and_stock_az_waits_for_retry_after(tmp_path):
    with sim_up(str(tmp_path / "sim"), write_budget="2/30") as sim:
        for n in range(3):  # the third is refused (two writes in the last 30 s), then sent again by az's SDK
            sim.az("group", "create", "-n", "w{}".format(n), "-l", "eastus", "-o", "none")
        counters = sim.client.call("GET", "/simulator/throttle", auth=False)[2]
        assert counters["throttled"] >= 1 and counters["early_retries"] == 0 and counters["accepted"] == 3
        with open(os.path.join(sim.dir, "config.json")) as f:
            assert '"write_budget": "2/30"' in f.read()
