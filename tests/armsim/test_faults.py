# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Fault injection (armsim/faults.py): the spec, each kind's answer on the wire, what it leaves behind, counts,
determinism, and the routes it never touches; rules F1 and F2 through stock az (test_rules.py counts them)."""
import contextlib
import http.client
import json
import os
import ssl
import time

import pytest

from armsim import faults, lifecycle
from conftest import Sim, sim_up, start_serve

SPEC = "seed=7,throttle=0.05,error500=0.02,lro-failed:deallocate=0.1,conflict=0.05,reset=0.02,slow=0.1:1.5"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("armsim-faults"))
    proc = start_serve(directory, "--faults", "seed=3")  # `serve --faults`: on from the start (and empty here)
    try:
        sim = Sim(directory, proc)
        sim.client.request("PUT", rg_path(sim, "faults"), {"location": "eastus"})
        yield sim
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def injecting(sim, spec):
    """Faults on for the block, off (and counted) after it; yields a dict filled with the final report."""
    report = {}
    configure(sim, spec="seed=1," + spec)
    try:
        yield report
    finally:
        report.update(configure(sim, enabled=False))
        configure(sim, spec="")


def configure(sim, **body):
    status, _, report = sim.client.call("POST", "/simulator/faults", body, auth=False)
    assert status == 200, report
    return report


def rg_path(sim, rg):
    return "/subscriptions/{}/resourceGroups/{}".format(sim.sub, rg)


def vm_path(sim, name, action=""):
    return rg_path(sim, "faults") + "/providers/Microsoft.Compute/virtualMachines/" + name + action


def make_vm(sim, name):
    sim.seed({"resourceGroups": [{"name": "faults", "location": "eastus",
                                  "virtualMachines": [{"name": name, "zone": None}]}]})


def power(sim, name):
    view = sim.client.request("GET", vm_path(sim, name, "/instanceView"))
    return [s["code"] for s in view["statuses"] if s["code"].startswith("PowerState/")][0].split("/")[1]


# --- the spec ---------------------------------------------------------------------------------------------------
def test_spec_is_parsed_in_a_stable_order_and_reported():
    seed, items = faults.parse(SPEC)
    assert seed == 7
    assert [str(i) for i in items] == ["reset=0.02", "throttle=0.05", "error500=0.02", "conflict=0.05",
                                       "slow=0.1:1.5", "lro-failed:deallocate=0.1"]
    assert faults.Faults(SPEC).report()["spec"] == "seed=7," + ",".join(str(i) for i in items)


@pytest.mark.parametrize("spec, text", [
    ("bogus=0.1", "unknown fault 'bogus'"), ("throttle=2", "between 0 and 1"), ("seed=x", "seed must be"),
    ("throttle", r"is not KIND\[:OPERATION\]=RATE"), ("conflict=0.1:3", "only throttle and slow take a value"),
    ("lro-failed:dealocate=0.1", "unknown operation 'dealocate'"), ("slow=0.1:-1", "0 or more")])
def test_bad_spec_is_refused_naming_the_item(spec, text):
    with pytest.raises(faults.FaultSpecError, match=text):
        faults.parse(spec)


@pytest.mark.parametrize("method, path, op", [
    ("GET", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v", "read"),
    ("GET", "/subscriptions/s/providers/Microsoft.Compute/locations/eastus/operations/x", "poll"),
    ("GET", "/subscriptions/s/operationresults/x", "poll"),
    ("PUT", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/u", "update"),
    ("PATCH", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v", "update"),
    ("POST", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v/deallocate",
     "deallocate"),
    ("POST", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/u/manualupgrade",
     "manualupgrade"),
    ("DELETE", "/subscriptions/s/resourceGroups/r", "delete")])
def test_requests_are_named_by_operation(method, path, op):
    assert faults.operation(method, path) == op


def test_decisions_depend_on_seed_request_and_occurrence_only():
    def decisions(spec, paths):
        f = faults.Faults(spec)
        out = []
        for path in paths:
            req = type("Req", (), {"method": "GET", "path": path, "fault": None})()
            f.on_request(req)
            out.append((path, req.fault))
        return out

    paths = ["/subscriptions/s/resourceGroups/r{}".format(n % 7) for n in range(200)]
    first = decisions("seed=5,throttle=0.3,error500=0.1", paths)
    assert first == decisions("seed=5,throttle=0.3,error500=0.1", paths)
    assert first != decisions("seed=6,throttle=0.3,error500=0.1", paths)
    # interleaving other requests does not change what these meet
    mixed = decisions("seed=5,throttle=0.3,error500=0.1", [p for path in paths for p in (path, path + "x")])
    assert [d for d in mixed if not d[0].endswith("x")] == first
    kinds = {k for _, k in first}
    assert kinds == {None, "throttle", "error500"}


# --- each kind on the wire --------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, status, code, retry_after", [
    ("throttle=1:3", 429, "TooManyRequests", "3"), ("error500=1", 500, "InternalServerError", None),
    ("error503=1", 503, "ServiceUnavailable", None), ("conflict=1", 409, ("Conflict", "OperationNotAllowed"), None)])
def test_refusals_answer_like_arm_and_change_nothing(sim, spec, status, code, retry_after):
    path = rg_path(sim, "refused-" + spec.split("=")[0])
    with injecting(sim, spec) as report:
        got, headers, body = sim.client.call("PUT", path, {"location": "eastus"})
    assert got == status and body["error"]["code"] in (code if isinstance(code, tuple) else (code,))
    assert "armsim fault" in body["error"]["message"] and headers.get("Retry-After") == retry_after
    assert report["injected"] == {spec.split("=")[0]: 1}
    assert sim.client.call("GET", path)[0] == 404  # rule F1: nothing was created


def test_conflict_is_for_writes_only(sim):
    with injecting(sim, "conflict=1") as report:
        assert sim.client.call("GET", rg_path(sim, "faults"))[0] == 200
    assert report["injected"] == {}


def raw_put(sim, path, body):
    """A PUT on its own connection: (status, None) or (None, the exception when the connection was dropped)."""
    host, port = sim.client.base.split("//")[1].split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ssl.create_default_context(
        cafile=os.path.join(sim.dir, "cert.pem")), timeout=30)
    try:
        conn.request("PUT", path + "?api-version=2024-11-01", json.dumps(body),
                     {"Authorization": "Bearer " + sim.client.token(), "Content-Type": "application/json"})
        return conn.getresponse().status, None
    except (http.client.HTTPException, OSError) as ex:
        return None, ex
    finally:
        conn.close()


@pytest.mark.parametrize("kind, created", [("reset", False), ("reset-after", True)])
def test_reset_closes_the_connection_before_or_after_the_request_takes_effect(sim, kind, created):
    path = rg_path(sim, kind)
    with injecting(sim, kind + ":update=1"):
        status, error = raw_put(sim, path, {"location": "eastus"})
    assert status is None and isinstance(error, (http.client.RemoteDisconnected, ConnectionError)), error
    assert (sim.client.call("GET", path)[0] == 200) == created
    entry = [e for e in sim.requests()["requests"] if e["path"].endswith("/" + kind) and e["method"] == "PUT"][-1]
    assert entry["status"] == 0 and entry["fault"] == kind


def test_slow_delays_the_answer(sim):
    with injecting(sim, "slow=1:0.5"):
        started = time.time()
        assert sim.client.call("GET", rg_path(sim, "faults"))[0] == 200
    assert time.time() - started >= 0.5


def test_failed_operation_reports_an_azure_shaped_error(sim):
    make_vm(sim, "lro")
    with injecting(sim, "lro-failed:deallocate=1") as report:
        status, headers, _ = sim.client.call("POST", vm_path(sim, "lro", "/deallocate"))
        _, _, operation = sim.client.call("GET", headers["Azure-AsyncOperation"])
    assert status == 202 and operation["status"] == "Failed"  # synchronous operations fail as asynchronous ones
    assert operation["error"]["code"] in ("InternalExecutionError", "OperationPreempted")
    assert power(sim, "lro") == "running"  # rule F2: the action left the VM as it was
    assert report["injected"] == {"lro-failed": 1} and report["seen"]["operations"] == 1


def test_simulator_token_and_metadata_are_never_faulted(sim):
    with injecting(sim, "throttle=1,error500=1,reset=1,slow=1:0.01") as report:
        for path in ("/simulator/health", "/simulator/rules", "/metadata/endpoints?api-version=1"):
            assert sim.client.call("GET", path, auth=False)[0] == 200
        sim.client._token = None
        assert sim.client.token()
    assert report["injected"] == {}


def test_counts_by_kind_pause_and_resume(sim):
    with injecting(sim, "error500:read=1") as report:
        for _ in range(3):
            sim.client.call("GET", rg_path(sim, "faults"))
        paused = configure(sim, enabled=False)
        assert sim.client.call("GET", rg_path(sim, "faults"))[0] == 200
        configure(sim, enabled=True)
        assert sim.client.call("GET", rg_path(sim, "faults"))[0] == 500
    assert paused["enabled"] is False and paused["injected"] == {"error500": 3}
    assert report["injected"] == {"error500": 4} and report["seen"]["requests"] == 4
    status, _, body = sim.client.call("POST", "/simulator/faults", {"spec": "nope=1"}, auth=False)
    assert status == 400 and "unknown fault 'nope'" in body["error"]["message"]


def test_up_turns_faults_on_after_signing_in(tmp_path):
    directory = str(tmp_path / "sim")
    with pytest.raises(lifecycle.LifecycleError, match="unknown fault"):
        lifecycle.up(directory, faults="bogus=1")
    lifecycle.up(directory, faults="seed=2,throttle:read=1")  # az login's reads would all be throttled
    try:
        sim = Sim(directory)
        report = sim.client.call("GET", "/simulator/faults", auth=False)[2]
        assert report["spec"] == "seed=2,throttle:read=1" and report["injected"] == {}
        code, _, err = sim.az("group", "list", expect=None)
        assert code != 0 and "TooManyRequests" in err
    finally:
        lifecycle.down(directory)


# --- rules F1 and F2, through stock az --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def az_sim_faults(tmp_path_factory):
    with sim_up(str(tmp_path_factory.mktemp("armsim-faults-az"))) as sim:
        automatic = {"name": "u", "orchestrationMode": "Uniform", "upgradePolicy": "Automatic",
                     "sku": "Standard_D2s_v3", "capacity": 2, "zones": ["1"]}
        sim.seed({"resourceGroups": [{"name": "f", "location": "eastus", "virtualMachines": [
            {"name": "v", "zone": None}], "scaleSets": [automatic]}]})
        yield sim


def vm_power(sim):
    _, view, _ = sim.az("vm", "get-instance-view", "-g", "f", "-n", "v")
    return [s["code"] for s in view["instanceView"]["statuses"] if s["code"].startswith("PowerState/")][0]


def test_f1_refused_requests_change_nothing_and_control_routes_are_never_faulted(az_sim_faults):
    sim = az_sim_faults
    with injecting(sim, "conflict:update=1,reset:deallocate=1") as report:
        _, _, err = sim.az("vm", "update", "-g", "f", "-n", "v", "--set", "tags.x=yes", expect=None)
        assert "Conflict" in err or "OperationNotAllowed" in err
        code, _, err = sim.az("vm", "deallocate", "-g", "f", "-n", "v", expect=None)
        assert code != 0 and "Connection aborted" in err
    assert report["injected"] == {"conflict": 1, "reset": 1}
    _, shown, _ = sim.az("vm", "show", "-g", "f", "-n", "v")
    assert "x" not in (shown.get("tags") or {}) and vm_power(sim) == "PowerState/running"
    with injecting(sim, "throttle=1,error500=1,reset=1") as report:
        _, table, _ = sim.az("rest", "--skip-authorization-header", "--url", sim.env()["ARMSIM_URL"] +
                             "/simulator/rules")
        assert {"F1", "F2"} <= {r["id"] for r in table["rules"]}
    assert report["injected"] == {}


def test_f2_failed_operation_leaves_previous_state_and_the_next_write_retries(az_sim_faults):
    sim = az_sim_faults
    with injecting(sim, "lro-failed:deallocate=1,lro-failed:update=1"):
        _, _, err = sim.az("vm", "deallocate", "-g", "f", "-n", "v", expect=None)
        assert "InternalExecutionError" in err or "OperationPreempted" in err
        _, _, err = sim.az("vmss", "update", "-g", "f", "-n", "u", "--set",
                           "virtualMachineProfile.osProfile.allowExtensionOperations=false", expect=None)
        assert "InternalExecutionError" in err or "OperationPreempted" in err
    assert vm_power(sim) == "PowerState/running"  # the action left its target as it was
    _, vmss, _ = sim.az("vmss", "show", "-g", "f", "-n", "u")
    _, views, _ = sim.az("vmss", "list-instances", "-g", "f", "-n", "u")
    assert vmss["provisioningState"] == "Failed"  # the update kept its model, and its follow-up did not run
    assert vmss["virtualMachineProfile"]["osProfile"]["allowExtensionOperations"] is False
    assert [i["latestModelApplied"] for i in views] == [False, False]
    _, vmss, _ = sim.az("vmss", "update", "-g", "f", "-n", "u", "--set", "tags.retry=yes")
    _, views, _ = sim.az("vmss", "list-instances", "-g", "f", "-n", "u")
    assert vmss["provisioningState"] == "Succeeded" and [i["latestModelApplied"] for i in views] == [True, True]
