# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Every rule of armsim/rules.py, each with a case it allows and a case it refuses (or the boundary it draws),
observed through stock `az` only: exit codes, the error code and rule id it prints, and the state read back.

Two simulators served to stock `az`: `sim` with the default readings and `opposite` with every decision rule in
its opposite reading. Rules about time (operations that take time, lagging association lists) and paging run
in-process (armsim.inprocess), on a clock the test moves instead of sleeps that race the machine's load.
"""
import datetime
import json

import pytest

from armsim import rules
from builders import (OTHER_SIZE, at_once, crg, flexible, follow_rolling, group_view, instances,
                      latest_models, model_group, power, refused, refused_all, seed, short, uniform, vm, vm_group,
                      vm_power)
from armsim import seed as landscape
from armsim.inprocess import InProcess
from conftest import sims_up

DECISIONS = ["A3s=opposite", "A5s=opposite", "A5i=opposite", "A7=opposite"]
LAG = 4  # seconds of C5 delay in test_c5


OPTIONS = {"sim": dict(pause_scale=0.01), "opposite": dict(rule_overrides=DECISIONS)}


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    """The three simulators, started at once, by name."""
    with sims_up(tmp_path_factory, "rules-", OPTIONS) as sims:
        yield sims


@pytest.fixture(scope="module")
def sim(sims):
    return sims["sim"]


@pytest.fixture(scope="module")
def opposite(sims):
    return sims["opposite"]


def in_process(rg, groups=(), scale_sets=(), vms=(), **options):
    """A simulator in this process with these options (armsim.backend.Options) and a landscape seeded in `rg`."""
    model = InProcess(**options)
    landscape.apply(model, {"location": "eastus", "resourceGroups": [
        {"name": rg, "capacityReservationGroups": list(groups), "scaleSets": list(scale_sets),
         "virtualMachines": list(vms)}]})
    return model


def path(model, rg, tail=""):
    return "/subscriptions/{}/resourceGroups/{}{}".format(model.sub, rg, tail)


def arm(sim, rg, tail="", api="2024-11-01"):
    return "{}/subscriptions/{}/resourceGroups/{}{}?api-version={}".format(
        sim.env()["ARMSIM_URL"], sim.sub, rg, tail, api)


def vm_url(sim, rg, name, action=""):
    return arm(sim, rg, "/providers/Microsoft.Compute/virtualMachines/" + name + action)


def vmss_url(sim, rg, name, action=""):
    return arm(sim, rg, "/providers/Microsoft.Compute/virtualMachineScaleSets/" + name + action)


def rest(sim, method, url, body=None, *extra, expect=0):
    args = ["rest", "--method", method, "--url", url] + list(extra)
    if body is not None:
        args += ["--body", json.dumps(body)]
    return sim.az(*args, expect=expect)


def assert_refused(err, code, rule, text=""):
    assert code in err and "(armsim rule {})".format(rule) in err and text in err, err


def setup(sim, method, url, body=None):
    """A preparatory step that is not what the test observes: straight to the simulator, without az."""
    sim.client.request(method, url.split("?")[0].replace(sim.env()["ARMSIM_URL"], ""), body)


def set_capacity(sim, rg, capacity, group="g", reservation="r1"):
    setup(sim, "PATCH", arm(sim, rg, "/providers/Microsoft.Compute/capacityReservationGroups/{}/capacityReservations/"
                                     "{}".format(group, reservation)), {"sku": {"capacity": capacity}})


# --- wire and identity ---------------------------------------------------------------------------------
def test_w1_https_only(sim):
    _, account, _ = sim.az("account", "show")
    assert account["environmentName"] == "armsim"
    plain = sim.env()["ARMSIM_URL"].replace("https://", "http://")
    err = refused(sim, "rest", "--url", plain + "/subscriptions/{}/resourcegroups?api-version=2022-01-01".format(
        sim.sub))
    assert "Connection" in err


def test_w2_metadata_endpoints_need_no_token(sim):
    base = sim.env()["ARMSIM_URL"]
    _, meta, _ = sim.az("rest", "--skip-authorization-header", "--url", base + "/metadata/endpoints?api-version=1")
    assert meta["resourceManager"] == base + "/"
    err = refused(sim, "rest", "--skip-authorization-header", "--url", arm(sim, "any"))
    assert "InvalidAuthenticationToken" in err


def test_w3_service_principal_token(sim):
    _, token, _ = sim.az("account", "get-access-token")
    assert token["accessToken"] and token["subscription"] == sim.sub
    err = refused(sim, "rest", "--skip-authorization-header", "--headers", "Authorization=Bearer forged",
                  "--url", arm(sim, "any"))
    assert "InvalidAuthenticationToken" in err and "invalid or has expired" in err


def test_w4_any_api_version(sim):
    seed(sim, "w4")
    _, group, _ = sim.az("rest", "--url", arm(sim, "w4", api="2015-01-01"))
    assert group["name"] == "w4"
    url = arm(sim, "w4", "/providers/Microsoft.Compute/capacityReservationGroups/g").split("?")[0]
    err = refused(sim, "rest", "--method", "put", "--url", url, "--body", '{"location": "eastus"}')
    assert "api-version" in err


def test_w5_ids_compare_case_insensitively(sim):
    seed(sim, "w5", vms=[vm("Mixed-Case", zone=None, group=None)])
    _, shown, _ = sim.az("vm", "show", "-g", "W5", "-n", "MIXED-case")
    assert shown["name"] == "Mixed-Case"
    _, _, err = sim.az("vm", "show", "-g", "w5", "-n", "other", expect=3)
    assert "ResourceNotFound" in err


def test_w6_w10_long_running_operations():
    vm_path = "/providers/Microsoft.Compute/virtualMachines/v"
    at_zero = in_process("w6", vms=[vm("v", zone=None, group=None)])
    status, headers, _ = at_zero.call("POST", path(at_zero, "w6", vm_path + "/deallocate"))
    assert status == 202 and {"Azure-AsyncOperation", "Location"} <= set(headers)
    assert "Retry-After" not in headers  # W10: due at once, so the first poll finds it done
    assert at_zero.call("GET", headers["Azure-AsyncOperation"])[2]["status"] == "Succeeded"
    assert at_zero.call("GET", headers["Location"])[0] == 200
    status, headers, body = at_zero.call("PUT", path(at_zero, "w6", vm_path), {"location": "eastus", "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v3"}}})
    assert status == 200 and body["properties"]["provisioningState"] == "Updating" and "Location" not in headers
    assert at_zero.request("GET", path(at_zero, "w6", vm_path))["properties"]["provisioningState"] == "Succeeded"

    timed = in_process("w6", vms=[vm("v", zone=None, group=None)], lro_seconds=2)
    status, headers, _ = timed.call("POST", path(timed, "w6", vm_path + "/deallocate"))
    assert status == 202 and headers["Retry-After"] == 2  # W10
    timed.advance(1.5)
    status, polled, state = timed.call("GET", headers["Azure-AsyncOperation"])
    assert state["status"] == "InProgress" and polled["Retry-After"] == 1
    assert timed.call("GET", headers["Location"])[0] == 202
    timed.advance(0.5)
    assert timed.call("GET", headers["Azure-AsyncOperation"])[2]["status"] == "Succeeded"

    shortcut = in_process("w6", vms=[vm("v", zone=None, group=None)], synchronous=True)
    status, headers, _ = shortcut.call("POST", path(shortcut, "w6", vm_path + "/deallocate"))
    assert status == 200 and "Azure-AsyncOperation" not in headers  # W10: --synchronous, asked for


def test_w7_lists_page_with_next_link():
    paged = in_process("w7-a", page_size=2)
    for name in ("w7-b", "w7-c"):
        paged.request("PUT", path(paged, name), {"location": "eastus"})
    url = "/subscriptions/{}/resourcegroups?api-version=2022-01-01".format(paged.sub)
    page = paged.request("GET", url)
    assert len(page["value"]) == 2 and page["nextLink"]
    assert {"w7-a", "w7-b", "w7-c"} == {g["name"] for g in paged.list(url)}
    whole = in_process("w7-a")
    for name in ("w7-b", "w7-c"):
        whole.request("PUT", path(whole, name), {"location": "eastus"})
    page = whole.request("GET", url.replace(paged.sub, whole.sub))
    assert len(page["value"]) == 3 and "nextLink" not in page


def test_w8_flexible_members_filter(sim):
    seed(sim, "w8", [crg()], [flexible(profile=False, members=[vm("m0", group=None), vm("m1", group=None)])],
         [vm("alone", group=None)])
    _, names, _ = sim.az("vm", "list", "-g", "w8", "--vmss", "f", "--query", "[].name")
    assert sorted(names) == ["m0", "m1"]
    url = arm(sim, "w8", "/providers/Microsoft.Compute/virtualMachines") + "&$filter=name eq 'm0'"
    assert_refused(refused(sim, "rest", "--url", url), "InvalidParameter", "W8")


def test_w9_instance_ids():
    model = in_process("w9", [crg()], [uniform()])
    vmss = path(model, "w9", "/providers/Microsoft.Compute/virtualMachineScaleSets/u")
    shown = lambda: {i["instanceId"]: power(i["properties"]["instanceView"])  # noqa: E731
                     for i in model.list(vmss + "/virtualMachines?$expand=instanceView")}
    model.request("POST", vmss + "/deallocate", {"instanceIds": ["1"]})
    assert shown() == {"0": "running", "1": "deallocated", "2": "running"}
    model.request("POST", vmss + "/deallocate")  # no ids: every instance
    assert set(shown().values()) == {"deallocated"}
    status, _, answer = model.call("POST", vmss + "/manualupgrade")
    assert status == 400 and answer["error"]["code"] == "InvalidParameter" and "instanceIds" in answer["error"][
        "message"]  # manualupgrade names its instances


def test_w11_resource_group_not_found():
    model = in_process("w11")
    refused_in_process(model, "GET", path(model, "w11-missing", "/providers/Microsoft.Compute/virtualMachines/v"),
                       None, "ResourceGroupNotFound", "W11", "Resource group 'w11-missing' could not be found.")
    missing_vmss = path(model, "w11-missing", "/providers/Microsoft.Compute/virtualMachineScaleSets/u")
    refused_in_process(model, "PUT", missing_vmss, {"location": "eastus"}, "ResourceGroupNotFound", "W11")
    status, _, answer = model.call("GET", path(model, "w11", "/providers/Microsoft.Compute/virtualMachines/v"))
    assert status == 404 and answer["error"]["code"] == "ResourceNotFound"


def test_w12_if_match():
    model = in_process("w12", [crg()], [uniform(capacity=1)], [vm("v")])
    for url in (path(model, "w12", "/providers/Microsoft.Compute/virtualMachineScaleSets/u"),
                path(model, "w12", "/providers/Microsoft.Compute/virtualMachines/v")):
        etag = model.request("GET", url)["etag"]
        status, _, answer = model.call("PATCH", url, {"tags": {"k": "stale"}}, headers={"If-Match": '"999"'})
        assert status == 412 and "(armsim rule W12)" in answer["error"]["message"]
        status, _, done = model.call("PATCH", url, {"tags": {"k": "fresh"}}, headers={"If-Match": etag})
        assert status == 200 and done["tags"] == {"k": "fresh"}
        status, _, answer = model.call("PUT", url, {"location": "eastus"}, headers={"If-None-Match": "*"})
        assert status == 412 and answer["error"]["code"] == "PreconditionFailed"


# --- association -----------------------------------------------------------------------------------
def attach(s, kind, rg, name, group):
    """`az vm|vmss update --capacity-reservation-group`: the group it prints the machine or model with after."""
    _, shown, _ = s.az(kind, "update", "-g", rg, "-n", name, "--capacity-reservation-group", group)
    holder = shown if kind == "vm" else shown.get("virtualMachineProfile")
    gid_ = (((holder or {}).get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
    return gid_.split("/")[-1] if gid_ else None


def test_a1_null_empty_and_missing(sim):
    seed(sim, "a1", [crg()], [uniform(power={"*": "deallocated"})], [vm("v", power="deallocated")])
    url = vm_url(sim, "a1", "v")
    at_once(*[lambda body=body: rest(sim, "patch", url, body) for body in (
        {"properties": {"capacityReservation": None}},
        {"properties": {"capacityReservation": {"capacityReservationGroup": None}}},
        {"tags": {"missing": "association"}})])  # each says nothing about the association
    assert vm_group(sim, "a1", "v") == "g"
    err = refused(sim, "rest", "--method", "patch", "--url", url, "--body",
                  '{"properties": {"capacityReservation": {"capacityReservationGroup": {"id": ""}}}}')
    assert_refused(err, "LinkedInvalidPropertyId", "A1")
    for clears in ({}, {"id": None}):
        _, shown, _ = rest(sim, "patch", url, {"properties": {"capacityReservation": {"capacityReservationGroup":
                                                                                      clears}}})
        assert "capacityReservation" not in shown["properties"]
        assert attach(sim, "vm", "a1", "v", "g") == "g"
    # stock az sends `capacityReservationGroup: {}` for None (seen on the wire)
    assert attach(sim, "vm", "a1", "v", "None") is None and attach(sim, "vmss", "a1", "u", "None") is None
    assert at_once(lambda: vm_group(sim, "a1", "v"), lambda: model_group(sim, "a1", "u")) == [None, None]


def test_a2_deallocated_vm_moves_freely(sim):
    seed(sim, "a2", [crg("g", ()), crg("h", ())], [], [vm("v", zone=None, power="deallocated")])
    assert [attach(sim, "vm", "a2", "v", group) for group in ("h", "None", "g")] == ["h", None, "g"]
    sim.az("vm", "start", "-g", "a2", "-n", "v")
    assert group_view(sim, "a2") == (["v"], ["v"])
    err = refused(sim, "vm", "update", "-g", "a2", "-n", "v", "--capacity-reservation-group", "h")
    assert_refused(err, "OperationNotAllowed", "A3")  # allocated now: no longer free


def test_a3_allocated_regional_vm_refused_zonal_attached_in_place(sim):
    seed(sim, "a3", [crg("g"), crg("reg", ()), crg("reg2", ())], [],
         [vm("zonal", group=None), vm("regional", zone=None, group=None), vm("onreg", zone=None, group="reg")])
    assert attach(sim, "vm", "a3", "zonal", "g") == "g"
    for err in refused_all(sim, ("vm", "update", "-g", "a3", "-n", "regional", "--capacity-reservation-group", "reg"),
                           ("vm", "update", "-g", "a3", "-n", "onreg", "--capacity-reservation-group", "reg2")):
        assert_refused(err, "OperationNotAllowed", "A3")
    assert at_once(lambda: group_view(sim, "a3"), lambda: vm_group(sim, "a3", "regional"),
                   lambda: vm_group(sim, "a3", "onreg")) == [(["zonal"], ["zonal"]), None, "reg"]


def switch_refused(s, kind, rg, name, rule, held):
    """The default reading of a switch rule: moving `name` from g to h is refused and it stays on g."""
    err = refused(s, kind, "update", "-g", rg, "-n", name, "--capacity-reservation-group", "h")
    assert_refused(err, "OperationNotAllowed", rule)
    assert held() == "g"


@pytest.mark.parametrize("reading", ["default", "opposite"])
def test_a3s_allocated_zonal_vm_switch(sim, opposite, reading):
    s = sim if reading == "default" else opposite
    seed(s, "a3s", [crg("g", capacity=0), crg("h"), crg("k")], [], [vm("v"), vm("w", group="k")])
    if reading == "default":
        return switch_refused(s, "vm", "a3s", "v", "A3s", lambda: vm_group(s, "a3s", "v"))
    assert attach(s, "vm", "a3s", "v", "h") == "h"
    err = refused(s, "vm", "update", "-g", "a3s", "-n", "w", "--capacity-reservation-group", "h")
    assert_refused(err, "OperationNotAllowed", "A4")  # k's reservation still has capacity: it may not leave
    assert group_view(s, "a3s", "h") == (["v"], ["v"])


def test_a4_allocated_vm_leaves_only_at_capacity_zero(sim):
    seed(sim, "a4", [crg(capacity=2)], [], [vm("v")])
    err = refused(sim, "vm", "update", "-g", "a4", "-n", "v", "--capacity-reservation-group", "None")
    assert_refused(err, "OperationNotAllowed", "A4", "capacity 2")
    assert vm_group(sim, "a4", "v") == "g"
    set_capacity(sim, "a4", 0)
    assert attach(sim, "vm", "a4", "v", "None") is None
    assert vm_power(sim, "a4", "v") == "running"


def test_a5_uniform_model_with_allocated_instances(sim):
    seed(sim, "a5", [crg("g"), crg("reg", ())], [
        uniform("zonal", group=None), uniform("regional", zones=(), group=None), uniform("on", capacity=2)])
    assert attach(sim, "vmss", "a5", "zonal", "g") == "g"  # a zonal scale set is attached in place
    refusals = refused_all(sim, ("vmss", "update", "-g", "a5", "-n", "regional", "--capacity-reservation-group", "reg"),
                           ("vmss", "update", "-g", "a5", "-n", "on", "--capacity-reservation-group", "None"))
    assert_refused(refusals[0], "OperationNotAllowed", "A5", "regional scale set")
    assert_refused(refusals[1], "OperationNotAllowed", "A5", "r1")
    assert at_once(lambda: model_group(sim, "a5", "regional"), lambda: model_group(sim, "a5", "on")) == [None, "g"]
    setup(sim, "POST", vmss_url(sim, "a5", "regional", "/deallocate"))
    set_capacity(sim, "a5", 0)
    assert attach(sim, "vmss", "a5", "regional", "reg") == "reg" and attach(sim, "vmss", "a5", "on", "None") is None


@pytest.mark.parametrize("reading", ["default", "opposite"])
def test_a5s_uniform_switch_with_allocated_instances(sim, opposite, reading):
    s = sim if reading == "default" else opposite
    seed(s, "a5s", [crg("g", capacity=0), crg("h")], [uniform(policy="Automatic")])
    if reading == "default":
        return switch_refused(s, "vmss", "a5s", "u", "A5s", lambda: model_group(s, "a5s", "u"))
    assert attach(s, "vmss", "a5s", "u", "h") == "h"
    assert group_view(s, "a5s", "h") == (["u/0", "u/1", "u/2"], ["u/0", "u/1", "u/2"])


@pytest.mark.parametrize("reading", ["default", "opposite"])
def test_a5i_where_a5_is_enforced(sim, opposite, reading):
    s = sim if reading == "default" else opposite
    seed(s, "a5i", [crg("g", ())], [uniform(policy="Automatic", zones=(), group=None, power={"2": "deallocated"})])
    if reading == "default":
        err = refused(s, "vmss", "update", "-g", "a5i", "-n", "u", "--capacity-reservation-group", "g")
        assert_refused(err, "OperationNotAllowed", "A5")
        assert model_group(s, "a5i", "u") is None
        return
    assert attach(s, "vmss", "a5i", "u", "g") == "g"
    # Automatic applied the model where the instance rules allow it: only the deallocated instance moved
    assert at_once(lambda: latest_models(s, "a5i", "u"), lambda: group_view(s, "a5i")) == [
        [False, False, True], (["u/2"], [])]
    err = refused(s, "vmss", "update-instances", "-g", "a5i", "-n", "u", "--instance-ids", "0")
    assert_refused(err, "OperationNotAllowed", "A5")
    setup(s, "POST", vmss_url(s, "a5i", "u", "/deallocate"), {"instanceIds": ["0"]})
    s.az("vmss", "update-instances", "-g", "a5i", "-n", "u", "--instance-ids", "0")
    assert group_view(s, "a5i") == (["u/0", "u/2"], [])


def test_a6_automatic_applies_at_once(sim):
    seed(sim, "a6a", [crg()], [uniform(policy="Automatic", group=None, power={"1": "deallocated"})])
    attach(sim, "vmss", "a6a", "u", "g")
    assert at_once(lambda: latest_models(sim, "a6a", "u"), lambda: group_view(sim, "a6a")) == [
        [True, True, True], (["u/0", "u/1", "u/2"], ["u/0", "u/2"])]


def test_a6_manual_waits_for_manualupgrade(sim):
    seed(sim, "a6m", [crg()], [uniform(group=None, power={"2": "deallocated"})])
    attach(sim, "vmss", "a6m", "u", "g")
    assert at_once(lambda: latest_models(sim, "a6m", "u"), lambda: group_view(sim, "a6m")) == [
        [False, False, False], ([], [])]
    sim.az("vmss", "start", "-g", "a6m", "-n", "u", "--instance-ids", "2")  # start applies no newer model
    sim.az("vmss", "update-instances", "-g", "a6m", "-n", "u", "--instance-ids", "0")
    assert at_once(lambda: instances(sim, "a6m", "u"), lambda: group_view(sim, "a6m")) == [
        {"0": ("running", True), "1": ("running", False), "2": ("running", False)}, (["u/0"], ["u/0"])]


def test_a6_rolling_in_batches(sim):
    seed(sim, "a6r", [crg()], [uniform(policy="Rolling", capacity=4, group=None, maxBatchInstancePercent=25,
                                       pause="PT1M")])
    sim.az("vmss", "update", "-g", "a6r", "-n", "u", "--capacity-reservation-group", "g", "-o", "none")
    seen, latest = follow_rolling(sim, "a6r", "u")
    assert seen == sorted(seen) and any(0 < n < 4 for n in seen), seen  # batch by batch, never back
    assert latest["runningStatus"]["code"] == "Completed"
    assert latest["progress"] == {"successfulInstanceCount": 4, "failedInstanceCount": 0,
                                  "inProgressInstanceCount": 0, "pendingInstanceCount": 0}
    assert latest["policy"]["maxBatchInstancePercent"] == 25 and latest["policy"]["pauseTimeBetweenBatches"] == "PT1M"
    assert group_view(sim, "a6r")[0] == ["u/0", "u/1", "u/2", "u/3"]


@pytest.mark.parametrize("policy", ["Automatic", "Rolling"])
def test_a6p_protected_instances_are_not_upgraded_by_the_policy(sim, policy):
    rg = "a6p-" + policy.lower()
    seed(sim, rg, [crg()], [uniform(policy=policy, group=None)])
    _, shown, _ = sim.az("vmss", "update", "-g", rg, "-n", "u", "--instance-id", "1",
                         "--protect-from-scale-set-actions", "true")
    assert shown["protectionPolicy"]["protectFromScaleSetActions"] is True
    sim.az("vmss", "update", "-g", rg, "-n", "u", "--capacity-reservation-group", "g", "-o", "none")
    if policy == "Rolling":
        follow_rolling(sim, rg, "u")
    assert latest_models(sim, rg, "u") == [True, False, True]
    assert group_view(sim, rg)[0] == ["u/0", "u/2"]
    sim.az("vmss", "update-instances", "-g", rg, "-n", "u", "--instance-ids", "1")  # named: the user's own action
    assert group_view(sim, rg)[0] == ["u/0", "u/1", "u/2"]


def test_a6p_a_whole_set_action_skips_protected_instances_and_one_naming_them_reaches_them(sim):
    rg = "a6p-actions"
    seed(sim, rg, [crg()], [uniform(group=None)])
    sim.az("vmss", "update", "-g", rg, "-n", "u", "--instance-id", "1", "--protect-from-scale-set-actions", "true")
    sim.az("vmss", "deallocate", "-g", rg, "-n", "u")
    assert {i: p for i, (p, _) in instances(sim, rg, "u").items()} == {"0": "deallocated", "1": "running",
                                                                       "2": "deallocated"}
    sim.az("vmss", "deallocate", "-g", rg, "-n", "u", "--instance-ids", "1")  # named: the user's own action
    assert instances(sim, rg, "u")["1"][0] == "deallocated"


def test_a6a_an_armed_scale_out_lands_just_before_the_next_action(sim):
    rg = "a6a-scale-out"
    seed(sim, rg, [crg()], [uniform(group=None, capacity=2)])
    _, vmss, _ = sim.az("vmss", "show", "-g", rg, "-n", "u")
    sim.client.call("POST", "/simulator/scale-out", {"scaleSet": vmss["id"], "count": 2}, auth=False)
    assert sorted(instances(sim, rg, "u")) == ["0", "1"]  # reads do not trigger it
    sim.az("vmss", "deallocate", "-g", rg, "-n", "u", "--instance-ids", "0")
    assert {i: p for i, (p, _) in instances(sim, rg, "u").items()} == {"0": "deallocated", "1": "running",
                                                                       "2": "running", "3": "running"}
    sim.az("vmss", "start", "-g", rg, "-n", "u", "--instance-ids", "0")  # once only
    assert sorted(instances(sim, rg, "u")) == ["0", "1", "2", "3"]


@pytest.mark.parametrize("end", ["Faulted", "Cancelled"])
def test_a6f_a_rolling_upgrade_ends_faulted_or_cancelled_on_demand(sim, end):
    rg = "a6f-" + end.lower()
    seed(sim, rg, [crg()], [uniform(policy="Rolling", capacity=4, group=None, maxBatchInstancePercent=25)])
    _, vmss, _ = sim.az("vmss", "show", "-g", rg, "-n", "u")
    sim.client.call("POST", "/simulator/rolling-upgrades", {"scaleSet": vmss["id"], "end": end, "afterBatches": 1},
                    auth=False)
    sim.az("vmss", "update", "-g", rg, "-n", "u", "--capacity-reservation-group", "g", "-o", "none")
    _, latest = follow_rolling(sim, rg, "u")
    assert latest["runningStatus"]["code"] == end
    assert latest["progress"]["successfulInstanceCount"] == 1 and latest_models(sim, rg, "u").count(True) == 1
    assert ("error" in latest) is (end == "Faulted")
    code, _, _ = sim.client.call("POST", "/simulator/rolling-upgrades", {"scaleSet": vmss["id"], "end": "Done"},
                                 auth=False)
    assert code == 400


@pytest.mark.parametrize("reading", ["default", "opposite"])
def test_a7_flexible_profile_governs_new_members(sim, opposite, reading):
    s = sim if reading == "default" else opposite
    seed(s, "a7", [crg()], [flexible(policy="Automatic", capacity=2)])
    _, before, _ = s.az("vm", "list", "-g", "a7", "--query", "[].name")
    assert attach(s, "vmss", "a7", "f", "g") == "g"
    s.az("vmss", "scale", "-g", "a7", "-n", "f", "--new-capacity", "3", "-o", "none")
    query = "[].{name: name, group: capacityReservation.capacityReservationGroup.id}"
    _, after, _ = s.az("vm", "list", "-g", "a7", "--query", query)
    groups = {vm_["name"]: vm_["group"].split("/")[-1] if vm_["group"] else None for vm_ in after}
    expected = None if reading == "default" else "g"  # default: existing members change only through their VM
    assert [groups.pop(name) for name in before] == [expected, expected]
    assert list(groups.values()) == ["g"]  # the member made after the change


def refused_in_process(model, method, url, body, code, rule, text=""):
    status, _, answer = model.call(method, url, body)
    assert status >= 400 and answer["error"]["code"] == code, answer
    assert_refused(answer["error"]["message"], "", rule, text)


def group_patch(model, rg, kind, group):
    """The PATCH body `az vm|vmss update --capacity-reservation-group` amounts to."""
    association = {"capacityReservation": {"capacityReservationGroup": {
        "id": path(model, rg, "/providers/Microsoft.Compute/capacityReservationGroups/" + group)
        if not group.startswith("/") else group}}}
    return {"properties": association if kind == "virtualMachines" else {"virtualMachineProfile": association}}


def test_a8_validations():
    model = in_process("a8", [crg("g"), crg("reg", ()), crg("big", capacity=2)], [
        uniform("spg", group=None, singlePlacementGroup=True, power={"*": "deallocated"}),
        uniform("fd5", zones=(), group=None, platformFaultDomainCount=5, power={"*": "deallocated"}),
        uniform("spot", group=None, priority="Spot", power={"*": "deallocated"})], [
        vm("regional", zone=None, group=None, power="deallocated"), vm("z1", group=None, power="deallocated"),
        vm("z2", zone="2", group=None, power="deallocated"), vm("e4", group=None, sku=OTHER_SIZE, power="deallocated"),
        vm("on", group="g", power="deallocated")])
    landscape.apply(model, {"resourceGroups": [{"name": "a8-west", "location": "westus",
                                                "capacityReservationGroups": [crg("w")]}]})
    west = path(model, "a8-west", "/providers/Microsoft.Compute/capacityReservationGroups/w")
    cases = [
        ("virtualMachines", "regional", "missing", "was not found"),
        ("virtualMachines", "z1", west, "same region"),
        ("virtualMachines", "regional", "g", "is zonal (1) and Virtual machine 'regional' is regional"),
        ("virtualMachines", "z1", "reg", "is regional"),
        ("virtualMachines", "z2", "g", "does not cover"),
        ("virtualMachines", "e4", "g", "no capacity reservation for size '{}' in zone 1".format(OTHER_SIZE)),
        ("virtualMachineScaleSets", "spg", "g", "singlePlacementGroup=true"),
        ("virtualMachineScaleSets", "fd5", "reg", "5 fault domains"),
        ("virtualMachineScaleSets", "spot", "g", "Spot"),
    ]
    machine = lambda kind, name: path(model, "a8", "/providers/Microsoft.Compute/{}/{}".format(kind, name))  # noqa
    for kind, name, group, text in cases:
        refused_in_process(model, "PATCH", machine(kind, name), group_patch(model, "a8", kind, group),
                           "InvalidParameter", "A8", text)
    assert "capacityReservation" not in model.request("GET", machine("virtualMachines", "regional"))["properties"]
    assert "capacityReservation" not in model.request("GET", machine("virtualMachineScaleSets", "spg"))[
        "properties"]["virtualMachineProfile"]
    refused_in_process(model, "PATCH", machine("virtualMachines", "on"), {"properties": {  # resize (doc R10)
        "hardwareProfile": {"vmSize": OTHER_SIZE}}}, "InvalidParameter", "A8", OTHER_SIZE)
    attached = model.request("PATCH", machine("virtualMachines", "regional"),
                             group_patch(model, "a8", "virtualMachines", "reg"))
    assert attached["properties"]["capacityReservation"]["capacityReservationGroup"]["id"].endswith("/reg")


def test_a9_ephemeral_os_disk_cannot_deallocate():
    model = in_process("a9", [crg()], [uniform(ephemeralOsDisk=True)], [vm("eph", ephemeralOsDisk=True), vm("disk")])
    machine = lambda tail: path(model, "a9", "/providers/Microsoft.Compute/" + tail)  # noqa: E731
    for url, body in ((machine("virtualMachines/eph/deallocate"), None),
                      (machine("virtualMachineScaleSets/u/deallocate"), None),
                      (machine("virtualMachineScaleSets/u/deallocate"), {"instanceIds": ["1"]})):
        refused_in_process(model, "POST", url, body, "OperationNotAllowed", "A9", "Operation 'deallocate' is not "
                           "supported for VMs or VM Scale Set instances using an ephemeral OS disk.")
    shown = lambda tail: power(model.request("GET", machine(tail + "/instanceView")))  # noqa: E731
    assert shown("virtualMachines/eph") == "running"
    assert {power(i["properties"]["instanceView"]) for i in model.list(
        machine("virtualMachineScaleSets/u/virtualMachines?$expand=instanceView"))} == {"running"}
    model.request("POST", machine("virtualMachines/eph/powerOff"))  # powerOff keeps the hardware: allowed
    model.request("POST", machine("virtualMachines/disk/deallocate"))
    assert (shown("virtualMachines/eph"), shown("virtualMachines/disk")) == ("stopped", "deallocated")


# --- reservations ------------------------------------------------------------------------------------
def test_c1_associated_and_allocated_lists(sim):
    seed(sim, "c1", [crg()], [uniform(power={"1": "deallocated"})],
         [vm("v", power="deallocated"), vm("w", group=None)])
    assert group_view(sim, "c1") == (["u/0", "u/1", "u/2", "v"], ["u/0", "u/2"])
    _, r, _ = sim.az("capacity", "reservation", "show", "-g", "c1", "-c", "g", "-n", "r1", "--instance-view")
    ids = sorted(a["id"].split("/providers/Microsoft.Compute/")[1] for a in r["virtualMachinesAssociated"])
    assert ids == ["virtualMachineScaleSets/u/virtualMachines/{}".format(n) for n in range(3)] + ["virtualMachines/v"]
    assert len(r["instanceView"]["utilizationInfo"]["virtualMachinesAllocated"]) == 2


def compute(model, rg, tail):
    return path(model, rg, "/providers/Microsoft.Compute/" + tail)


def test_c2_overallocation_is_never_refused():
    model = in_process("c2", [crg(capacity=1)], [uniform(power={"*": "deallocated"})], [vm("v", power="deallocated")])
    reservation = compute(model, "c2", "capacityReservationGroups/g/capacityReservations/r1")
    model.request("POST", compute(model, "c2", "virtualMachineScaleSets/u/start"))
    model.request("PATCH", reservation, {"sku": {"capacity": 0}})
    model.request("POST", compute(model, "c2", "virtualMachines/v/start"))
    info = model.request("GET", reservation + "?$expand=instanceView")["properties"]["instanceView"]["utilizationInfo"]
    assert info["currentCapacity"] == 0 and len(info["virtualMachinesAllocated"]) == 4


def test_c3_capacity_changes():
    model = in_process("c3", [crg(capacity=2)], [], [vm("v")])
    reservation = compute(model, "c3", "capacityReservationGroups/g/capacityReservations/r1")
    for capacity in (0, 5):
        assert model.request("PATCH", reservation, {"sku": {"capacity": capacity}})["sku"]["capacity"] == capacity
    r = model.request("PATCH", reservation, {"sku": {"name": OTHER_SIZE, "capacity": 3}})
    assert r["sku"] == {"name": "Standard_D2s_v3", "capacity": 3}  # only the capacity changes
    refused_in_process(model, "PATCH", reservation, {"sku": {"capacity": -1}}, "InvalidParameter", "C3")
    group = model.request("GET", compute(model, "c3", "capacityReservationGroups/g?$expand=instanceView"))
    assert [short(v["id"]) for v in group["properties"]["virtualMachinesAssociated"]] == ["v"]
    assert [short(v["id"]) for v in group["properties"]["instanceView"]["capacityReservations"][0][
        "utilizationInfo"]["virtualMachinesAllocated"]] == ["v"]


def test_c4_delete_refusals():
    model = in_process("c4", [crg()], [], [vm("v", power="deallocated")])
    group = compute(model, "c4", "capacityReservationGroups/g")
    refused_in_process(model, "DELETE", group + "/capacityReservations/r1", None, "OperationNotAllowed", "C4",
                       "associated with 1")
    refused_in_process(model, "DELETE", group, None, "CannotDeleteResource", "C4", "nested resources")
    model.request("PATCH", compute(model, "c4", "virtualMachines/v"), {"properties": {"capacityReservation": {
        "capacityReservationGroup": {}}}})
    model.request("DELETE", group + "/capacityReservations/r1")
    model.request("DELETE", group)
    assert model.call("GET", group)[0] == 404


def test_c5_association_lists_lag(sim):
    seed(sim, "c5", [crg()], [], [vm("v", power="deallocated")])
    sim.az("vm", "update", "-g", "c5", "-n", "v", "--capacity-reservation-group", "None", "-o", "none")
    assert group_view(sim, "c5") == ([], [])  # no lag by default

    lagging = in_process("c5", [crg()], [], [vm("v", power="deallocated")], consistency_seconds=LAG)
    group = path(lagging, "c5", "/providers/Microsoft.Compute/capacityReservationGroups/g")
    vm_path = path(lagging, "c5", "/providers/Microsoft.Compute/virtualMachines/v")
    lagging.advance(LAG)  # the seeded association (a change too) is listed by now
    listed = lambda: [short(v["id"]) for v in lagging.request("GET", group).get(  # noqa: E731
        "properties", {}).get("virtualMachinesAssociated") or []]
    assert listed() == ["v"]
    lagging.request("PATCH", vm_path, {"properties": {"capacityReservation": {"capacityReservationGroup": {}}}})
    assert "capacityReservation" not in lagging.request("GET", vm_path)["properties"]  # the VM shows it at once
    lagging.advance(LAG - 0.5)
    assert listed() == ["v"]
    status, _, body = lagging.call("DELETE", group + "/capacityReservations/r1")
    assert status == 409 and body["error"]["code"] == "OperationNotAllowed" and "(armsim rule C4)" in \
        body["error"]["message"]  # the delete check reads the lagging lists
    lagging.advance(0.5)
    assert listed() == []
    lagging.request("DELETE", group + "/capacityReservations/r1")


def test_c6_reservation_location_zone_and_size():
    model = in_process("c6", [crg()])
    group = compute(model, "c6", "capacityReservationGroups/g")
    create = lambda size, zone=None, location="eastus": dict(  # noqa: E731
        {"location": location, "sku": {"name": size, "capacity": 1}}, **({"zones": [zone]} if zone else {}))
    model.request("PUT", group + "/capacityReservations/e4", create(OTHER_SIZE, "1"))
    for name, body, text in (("twin", create("Standard_D2s_v3", "1"), "already has a capacity reservation"),
                             ("z2", create(OTHER_SIZE, "2"), "exactly one zone"),
                             ("nozone", create("Standard_D4s_v3"), "exactly one zone"),
                             ("west", create("Standard_D4s_v3", "1", "westus"), "location of its group")):
        refused_in_process(model, "PUT", group + "/capacityReservations/" + name, body, "InvalidParameter", "C6", text)
    assert sorted(r["name"] for r in model.list(group + "/capacityReservations")) == ["e4", "r1"]


def test_c7_block_groups_and_schedules():
    model = in_process("c7", [crg("t")])
    model.clock.time = datetime.datetime(2025, 7, 30, 10, 0, tzinfo=datetime.timezone.utc).timestamp()
    groups = path(model, "c7", "/providers/Microsoft.Compute/capacityReservationGroups/")
    block = model.request("PUT", groups + "b", {"location": "eastus", "zones": ["1"],
                                                "properties": {"reservationType": "Block"}})
    assert block["properties"]["reservationType"] == "Block"
    assert model.request("GET", groups + "t")["properties"]["reservationType"] == "Targeted"

    def refused_with(method, url, body, status, code, target):
        got, _, answer = model.call(method, url, body)
        assert (got, answer["error"]["code"], answer["error"].get("target")) == (status, code, target), answer

    reservation = {"location": "eastus", "zones": ["1"], "sku": {"name": "Standard_ND96isr_H100_v5", "capacity": 1}}
    scheduled = lambda start, end: dict(reservation, properties={  # noqa: E731
        "scheduleProfile": {"start": start, "end": end}})
    refused_with("PUT", groups + "b", {"location": "eastus", "properties": {"reservationType": "Open"}}, 400,
                 "InvalidParameter", "reservationType")
    refused_with("PUT", groups + "b", {"location": "eastus", "zones": ["1"],
                                       "properties": {"reservationType": "Targeted"}},
                 409, "PropertyChangeNotAllowed", "reservationType")
    refused_with("PUT", groups + "b/capacityReservations/none", reservation, 400, "InvalidParameter",
                 "scheduleProfile")
    refused_with("PUT", groups + "t/capacityReservations/x", scheduled("2025-08-01", "2025-08-02"), 400,
                 "InvalidParameter", "scheduleProfile")
    for start, end, target in (("2025-07-29", "2025-07-30", "start"), ("2025-09-25", "2025-09-26", "start"),
                               ("2025-08-01", "2025-08-01", "end"), ("2025-08-01", "2025-08-16", "end"),
                               ("2025-08-01", "2025-08-20", "end"), ("soon", "2025-08-02", "start")):
        refused_with("PUT", groups + "b/capacityReservations/x", scheduled(start, end), 400, "InvalidParameter",
                     "scheduleProfile." + target)
    made = model.request("PUT", groups + "b/capacityReservations/x", scheduled("2025-07-30", "2025-08-20"))
    assert made["properties"]["scheduleProfile"] == {"start": "2025-07-30T12:00:00Z", "end": "2025-08-20T11:30:00Z"}
    refused_with("PATCH", groups + "b/capacityReservations/x", {"properties": {"scheduleProfile": {
        "start": "2025-08-01", "end": "2025-08-02"}}}, 409, "PropertyChangeNotAllowed", "scheduleProfile")
    model.clock.advance(2 * 3600)  # 12:00 UTC: too late to start today
    late = dict(scheduled("2025-07-30", "2025-07-31"), sku={"name": "Standard_D2s_v3", "capacity": 1})
    refused_with("PUT", groups + "b/capacityReservations/y", late, 400, "InvalidParameter", "scheduleProfile.start")


# --- power ---------------------------------------------------------------------------------------------
def test_p1_power_states(sim):
    seed(sim, "p1", [crg()], [], [vm("v")])
    sim.az("vm", "stop", "-g", "p1", "-n", "v")
    assert vm_power(sim, "p1", "v") == "stopped" and group_view(sim, "p1") == (["v"], ["v"])
    sim.az("vm", "deallocate", "-g", "p1", "-n", "v")
    assert vm_power(sim, "p1", "v") == "deallocated" and group_view(sim, "p1") == (["v"], [])
    sim.az("vm", "start", "-g", "p1", "-n", "v")
    assert vm_power(sim, "p1", "v") == "running"

    timed = in_process("p1", vms=[vm("v", zone=None, group=None)], lro_seconds=2)
    vm_path = path(timed, "p1", "/providers/Microsoft.Compute/virtualMachines/v")
    shown = lambda: power(timed.request("GET", vm_path + "/instanceView"))  # noqa: E731
    for action, during, done in (("deallocate", "deallocating", "deallocated"), ("start", "starting", "running")):
        timed.request("POST", vm_path + "/" + action, wait=False)
        timed.advance(1.9)
        assert shown() == during
        timed.advance(0.1)
        assert shown() == done


def test_p2_started_machine_consumes_its_reservation(sim):
    seed(sim, "p2", [crg()], [], [vm("v", power="deallocated"), vm("free", group=None, power="deallocated")])
    assert group_view(sim, "p2") == (["v"], [])
    for name in ("v", "free"):
        sim.az("vm", "start", "-g", "p2", "-n", name)
    _, r, _ = sim.az("capacity", "reservation", "show", "-g", "p2", "-c", "g", "-n", "r1", "--instance-view")
    assert [a["id"].split("/")[-1] for a in r["instanceView"]["utilizationInfo"]["virtualMachinesAllocated"]] == ["v"]


# --- the table ----------------------------------------------------------------------------------------------
def test_rule_table_lists_every_rule_and_its_reading(sim, opposite):
    url = sim.env()["ARMSIM_URL"] + "/simulator/rules"
    _, table, _ = sim.az("rest", "--skip-authorization-header", "--url", url)
    listed = {r["id"]: r for r in table["rules"]}
    assert list(listed) == [r.id for r in rules.RULES]
    assert {r["provenance"] for r in listed.values()} <= {"doc", "wire", "decision", "doc/wire", "doc/decision"}
    assert all(callable(rules.resolve(r)) for r in rules.RULES)
    assert [i for i, r in listed.items() if "readings" in r] == rules.SWITCHABLE
    assert len(rules.SWITCHABLE) >= 8 and all(len(listed[i]["readings"]) >= 2 for i in rules.SWITCHABLE)
    assert all(listed[i]["question"] for i in rules.SWITCHABLE)
    assert all(listed[i]["reading"] == listed[i]["default"] for i in rules.SWITCHABLE)
    assert listed["C5"]["enabled"] is False
    _, table, _ = opposite.az("rest", "--skip-authorization-header", "--url",
                              opposite.env()["ARMSIM_URL"] + "/simulator/rules")
    assert {r["id"]: r["reading"] for r in table["rules"] if r.get("readings") and r["reading"] != r["default"]} \
        == {"A3s": "in-place", "A5s": "in-place", "A5i": "on-instances", "A7": "follows-policy"}
    table = InProcess(consistency_seconds=LAG).call("GET", "/simulator/rules", auth=False)[2]
    assert [r for r in table["rules"] if r["id"] == "C5"][0]["enabled"] is True


def test_every_rule_has_a_test():
    import test_capacity  # rules K1-K7, on-demand capacity
    import test_faults  # rules F1 and F2, with fault injection's own tests
    import test_readings  # the decision rules' readings, in-process
    import test_throttle  # rule W13's tests, with the write budget's own
    import test_arm_limits  # rules W14-W16: ARM's and Compute's buckets, drawn operation times
    import test_az_create  # rules D1-D3, S1, N1: az vm create / az vmss create as written
    import test_templates  # rule D3: the template language subset
    names = [n for n in list(globals()) + dir(test_throttle) + dir(test_arm_limits) + dir(test_faults)
             + dir(test_az_create) + dir(test_templates) + dir(test_capacity) + dir(test_readings)
             if n.startswith("test_")]
    untested = [r.id for r in rules.RULES
                if not any(("_" + r.id.lower() + "_") in n.replace("test_", "_", 1) for n in names)]
    assert not untested, untested


def test_unknown_rule_option_is_refused(tmp_path):
    from armsim import lifecycle
    with pytest.raises(lifecycle.LifecycleError, match="only these decision rules"):
        lifecycle.up(str(tmp_path / "sim"), rule_overrides=["A4=opposite"])
