# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Rules W14 and W15, `--arm-limits`: ARM's token buckets per kind of request and Compute's per-operation limits,
429 with Retry-After beyond them, the remaining-tokens headers on every answer; and rule W16, operation durations
drawn around --lro-seconds. In-process, on a clock the test moves."""
import pytest

from armsim import rules, throttle
from armsim.backend import LroOptionError, parse_lro
from armsim.inprocess import InProcess


def rg(sim, name):
    return "/subscriptions/{}/resourceGroups/{}".format(sim.sub, name)


def vm_path(sim, name="vm1"):
    return rg(sim, "rg") + "/providers/Microsoft.Compute/virtualMachines/" + name


def test_documented_sizes_and_a_clear_error_for_a_bad_option():
    assert throttle.parse_limits("on") == (throttle.DOCUMENTED, True)
    assert throttle.parse_limits(None) is None and throttle.parse_limits("off") is None
    limits, compute = throttle.parse_limits("reads=5/1,compute=off")
    assert limits == {"reads": (5.0, 1.0), "writes": (200.0, 10.0), "deletes": (200.0, 10.0)} and not compute
    for bad in ("reads=5", "reads=0/1", "posts=1/1", "reads=5/0"):
        with pytest.raises(throttle.LimitsOptionError, match="--arm-limits"):
            throttle.parse_limits(bad)


def test_w14_reads_beyond_the_bucket_answer_429_until_tokens_are_back():
    sim = InProcess(arm_limits="reads=3/0.5")
    sim.call("PUT", rg(sim, "rg"), {"location": "eastus"})
    remaining = [sim.call("GET", rg(sim, "rg"))[1]["x-ms-ratelimit-remaining-subscription-reads"] for _ in range(3)]
    assert remaining == [2, 1, 0]
    status, headers, body = sim.call("GET", rg(sim, "rg"))
    assert status == 429 and headers["Retry-After"] == 2  # one token back at 0.5 per second
    error = body["error"]
    assert error["code"] == "SubscriptionRequestsThrottled"
    assert "Number of 'read' requests for subscription '{}'".format(sim.sub) in error["message"]
    assert "W14" in error["message"]
    assert headers["x-ms-ratelimit-remaining-subscription-global-reads"] == 45 - 3
    sim.advance(1)
    assert sim.call("GET", rg(sim, "rg"))[0] == 429  # before its Retry-After: refused again, and counted early
    sim.advance(1)
    assert sim.call("GET", rg(sim, "rg"))[0] == 200
    counters = sim.call("GET", "/simulator/throttle", auth=False)[2]
    assert counters["reads"]["throttled"] == 2 and counters["reads"]["early_retries"] == 1
    assert counters["reads"]["accepted"] == 4 and counters["writes"]["accepted"] == 1
    assert counters["writes"]["throttled"] == 0


def test_w14_writes_and_deletes_have_their_own_buckets_and_headers():
    sim = InProcess(arm_limits="writes=1/0.1,deletes=1/0.1")
    status, headers, _ = sim.call("PUT", rg(sim, "a"), {"location": "eastus"})
    assert status in (200, 201) and headers["x-ms-ratelimit-remaining-subscription-writes"] == 0
    assert headers["x-ms-ratelimit-remaining-subscription-global-writes"] == 14
    assert "x-ms-ratelimit-remaining-subscription-reads" not in headers
    status, headers, body = sim.call("PUT", rg(sim, "b"), {"location": "eastus"})
    assert status == 429 and headers["Retry-After"] == 10 and "'write' requests" in body["error"]["message"]
    assert sim.call("GET", rg(sim, "a"))[0] == 200  # reads go on
    status, headers, _ = sim.call("DELETE", rg(sim, "a"))
    assert status < 300 and headers["x-ms-ratelimit-remaining-subscription-deletes"] == 0
    sim.advance(10)
    assert sim.call("PUT", rg(sim, "b"), {"location": "eastus"})[0] in (200, 201)
    counters = sim.call("GET", "/simulator/throttle", auth=False)[2]
    assert counters["writes"]["throttled"] == 1 and counters["writes"]["early_retries"] == 0
    assert counters["deletes"]["accepted"] == 1


def test_w14_simulator_routes_are_not_limited_and_reset_fills_the_buckets():
    sim = InProcess(arm_limits="reads=1/0.01")
    sim.call("GET", "/subscriptions/{}/resourcegroups".format(sim.sub))
    assert sim.call("GET", "/subscriptions/{}/resourcegroups".format(sim.sub))[0] == 429
    for _ in range(3):
        assert sim.call("GET", "/simulator/health", auth=False)[0] == 200
    sim.call("DELETE", "/simulator/throttle", auth=False)
    assert sim.call("GET", "/subscriptions/{}/resourcegroups".format(sim.sub))[0] == 200


def test_without_limits_no_rate_limit_headers_are_sent():
    sim = InProcess()
    _, headers, _ = sim.call("PUT", rg(sim, "a"), {"location": "eastus"})
    assert not [h for h in headers if h.startswith("x-ms-ratelimit")]
    assert sim.call("GET", "/simulator/throttle", auth=False)[0] == 404


@pytest.mark.parametrize("method, suffix, policy", [
    ("POST", "/deallocate", "DeleteVM"), ("POST", "/start", "UpdateVM"), ("POST", "/powerOff", "UpdateVM"),
    ("PATCH", "", "UpdateVM"), ("PUT", "", "PutVM"), ("GET", "", "LowCostGet"), ("DELETE", "", "DeleteVM")])
def test_w15_vm_requests_fall_under_the_documented_policies(method, suffix, policy):
    path = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1" + suffix
    assert throttle.compute_policy(method, path)[0] == policy


def test_w15_compute_limits_one_vm_at_12_updates_and_reports_them_as_compute_does():
    sim = InProcess(arm_limits="on")
    path = vm_path(sim)
    remaining = []
    for _ in range(12):  # the VM does not exist: Compute still counts the request (the 404 is its answer)
        _, headers, _ = sim.call("POST", path + "/start")
        remaining.append(headers["x-ms-ratelimit-remaining-resource"])
    assert remaining[0] == "Microsoft.Compute/UpdateVMSubscriptionMaximum;1499,Microsoft.Compute/UpdateVMResource;11"
    assert remaining[-1].endswith("UpdateVMResource;0")
    status, headers, body = sim.call("POST", path + "/start")
    assert status == 429 and headers["Retry-After"] == 15  # 4 tokens per minute
    assert body["error"]["code"] == "OperationNotAllowed"
    assert body["error"]["details"][0]["target"] == "UpdateVMResource"
    assert sim.call("POST", vm_path(sim, "vm2") + "/start")[0] != 429  # another VM has its own bucket
    assert sim.call("POST", path + "/deallocate")[0] != 429  # another policy too
    assert sim.call("GET", "/simulator/throttle", auth=False)[2]["compute"]["throttled"] == 1
    off = InProcess(arm_limits="compute=off")
    assert "x-ms-ratelimit-remaining-resource" not in off.call("POST", vm_path(off) + "/start")[1]


def test_the_rules_are_in_the_table_and_say_whether_they_are_on():
    assert rules.resolve(rules.BY_ID["W14"]) is throttle.Limits.check
    assert rules.resolve(rules.BY_ID["W15"]) is throttle.compute_policy
    table = {r["id"]: r for r in InProcess(arm_limits="on").call("GET", "/simulator/rules", auth=False)[2]["rules"]}
    assert table["W14"]["enabled"] and table["W15"]["enabled"] and not table["W13"]["enabled"]
    assert "reads 250 refilled at 25/s" in table["W14"]["reading"]


# --- rule W16: durations drawn around --lro-seconds ------------------------------------------------------------
def test_w16_the_option_and_its_errors():
    assert parse_lro("2") == (2.0, 0.0, 0) and parse_lro("2:1:7") == (2.0, 1.0, 7) and parse_lro(None) == (0, 0, 0)
    for bad in ("x", "-1", "2:-1", "2:1:x", "1:2:3:4"):
        with pytest.raises(LroOptionError, match="--lro-seconds"):
            parse_lro(bad)


def test_w16_durations_are_drawn_within_the_spread_and_repeat_with_the_seed():
    def draws(spec):
        sim = InProcess(lro_seconds=spec)
        return [sim.backend.lro_delay() for _ in range(50)]
    first = draws("2:1:5")
    assert all(1 <= d <= 3 for d in first) and len(set(first)) > 40
    assert draws("2:1:5") == first and draws("2:1:6") != first
    assert set(draws("2")) == {2.0}


def test_w16_an_operation_takes_its_drawn_time():
    sim = InProcess(lro_seconds="4:2:3")
    expected = InProcess(lro_seconds="4:2:3").backend.lro_delay()
    sim.call("PUT", rg(sim, "rg"), {"location": "eastus"})
    status, headers, _ = sim.call("PUT", rg(sim, "rg") + "/providers/Microsoft.Compute/capacityReservationGroups/g",
                                  {"location": "eastus"})
    assert status in (200, 201)
    op = headers["Azure-AsyncOperation"]
    sim.advance(expected - 0.01)
    assert sim.call("GET", op)[2]["status"] == "InProgress"
    sim.advance(0.02)
    assert sim.call("GET", op)[2]["status"] == "Succeeded"


# --- the options, served ---------------------------------------------------------------------------------------
def test_up_threads_the_limits_and_stock_az_waits_out_a_throttled_read(tmp_path):
    from conftest import sim_up
    with sim_up(str(tmp_path / "sim"), arm_limits="reads=1/0.05", lro_seconds="0.2:0.1:4") as sim:
        sim.az("group", "create", "-n", "r", "-l", "eastus", "-o", "none")
        for _ in range(2):  # 1 token, back after 20 s: the second is refused and az's SDK honours Retry-After
            sim.az("group", "show", "-n", "r", "-o", "none")
        counters = sim.client.call("GET", "/simulator/throttle", auth=False)[2]
        assert counters["reads"]["throttled"] >= 1 and counters["reads"]["early_retries"] == 0
        status, headers, _ = sim.client.call("GET", rg(sim, "r"))
        assert status in (200, 429) and "x-ms-ratelimit-remaining-subscription-global-reads" in headers
        table = {r["id"]: r for r in sim.client.call("GET", "/simulator/rules", auth=False)[2]["rules"]}
        assert table["W14"]["enabled"] and table["W16"]["reading"] == "mean 0.2 s, spread 0.1 s, seed 4"
    with pytest.raises(Exception, match="--arm-limits"):
        sim_up(str(tmp_path / "bad"), arm_limits="reads=x").__enter__()
