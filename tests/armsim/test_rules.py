"""Every rule of armsim/rules.py, each with a case it allows and a case it refuses (or the boundary it draws),
observed through stock `az` only: exit codes, the error code and rule id it prints, and the state read back.

Three simulators: `sim` with the default readings, `opposite` with every decision rule in its opposite reading,
and `slow` with operations that take time, lagging association lists and two items per page.
"""
import contextlib
import json
import time

import pytest

from armsim import rules
from builders import (OTHER_SIZE, at_once, crg, flexible, follow_rolling, gid, group_view, instances,
                      latest_models, model_group, refused, refused_all, seed, uniform, vm, vm_group, vm_power,
                      wait_until)
from conftest import sim_up

DECISIONS = ["A3s=opposite", "A5s=opposite", "A5i=opposite", "A7=opposite"]
LAG = 4  # seconds of C5 delay on the slow simulator


OPTIONS = {"sim": dict(pause_scale=0.01), "opposite": dict(rule_overrides=DECISIONS),
           "slow": dict(lro_seconds=2, consistency_seconds=LAG, page_size=2)}


@pytest.fixture(scope="module")
def sims(tmp_path_factory):
    """The three simulators, started at once, by name."""
    with contextlib.ExitStack() as stack:
        started = dict(zip(OPTIONS, at_once(*[lambda name=name: stack.enter_context(sim_up(
            str(tmp_path_factory.mktemp("rules-" + name)), **OPTIONS[name])) for name in OPTIONS])))
        # test_c5's landscape, made now so that its association (a change too) is listed by the time the test runs
        seed(started["slow"], "c5", [crg()], [], [vm("v", power="deallocated")])
        yield started


@pytest.fixture(scope="module")
def sim(sims):
    return sims["sim"]


@pytest.fixture(scope="module")
def opposite(sims):
    return sims["opposite"]


@pytest.fixture(scope="module")
def slow(sims):
    return sims["slow"]


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


def test_w6_w10_long_running_operations(sim, slow):
    at_once(*[lambda s=s: seed(s, "w6", vms=[vm("v", zone=None, group=None)]) for s in (sim, slow)])
    _, _, err = rest(slow, "post", vm_url(slow, "w6", "v", "/deallocate"), None, "--debug")
    assert "Response status: 202" in err and "'Azure-AsyncOperation'" in err and "'Location'" in err
    assert "'Retry-After'" in err  # W10
    _, _, err = rest(sim, "post", vm_url(sim, "w6", "v", "/deallocate"), None, "--debug")
    assert "Response status: 200" in err and "'Azure-AsyncOperation'" not in err  # W10: lro 0 is synchronous


def test_w7_lists_page_with_next_link(sim, slow):
    for name in ("w7-a", "w7-b", "w7-c"):
        seed(slow, name)
    url = "{}/subscriptions/{}/resourcegroups?api-version=2022-01-01".format(slow.env()["ARMSIM_URL"], slow.sub)
    _, page, _ = slow.az("rest", "--url", url)
    assert len(page["value"]) == 2 and page["nextLink"]
    _, names, _ = slow.az("group", "list", "--query", "[].name")
    assert {"w7-a", "w7-b", "w7-c"} <= set(names)  # az follows nextLink
    _, page, _ = sim.az("rest", "--url", url.replace(slow.env()["ARMSIM_URL"], sim.env()["ARMSIM_URL"]).replace(
        slow.sub, sim.sub))
    assert len(page["value"]) > 2 and "nextLink" not in page


def test_w8_flexible_members_filter(sim):
    seed(sim, "w8", [crg()], [flexible(profile=False, members=[vm("m0", group=None), vm("m1", group=None)])],
         [vm("alone", group=None)])
    _, names, _ = sim.az("vm", "list", "-g", "w8", "--vmss", "f", "--query", "[].name")
    assert sorted(names) == ["m0", "m1"]
    url = arm(sim, "w8", "/providers/Microsoft.Compute/virtualMachines") + "&$filter=name eq 'm0'"
    assert_refused(refused(sim, "rest", "--url", url), "InvalidParameter", "W8")


def test_w9_instance_ids(sim):
    seed(sim, "w9", [crg()], [uniform()])
    sim.az("vmss", "deallocate", "-g", "w9", "-n", "u", "--instance-ids", "1")
    assert {i: p for i, (p, _) in instances(sim, "w9", "u").items()} == {
        "0": "running", "1": "deallocated", "2": "running"}
    sim.az("vmss", "deallocate", "-g", "w9", "-n", "u")  # no ids: every instance
    assert {p for p, _ in instances(sim, "w9", "u").values()} == {"deallocated"}
    err = refused(sim, "rest", "--method", "post", "--url", vmss_url(sim, "w9", "u", "/manualupgrade"))
    assert "InvalidParameter" in err and "instanceIds" in err  # manualupgrade names its instances


def test_w11_resource_group_not_found(sim):
    seed(sim, "w11")
    _, _, err = sim.az("vm", "show", "-g", "w11-missing", "-n", "v", expect=3)
    assert_refused(err, "ResourceGroupNotFound", "W11", "Resource group 'w11-missing' could not be found.")
    err = refused(sim, "rest", "--method", "put", "--url", vmss_url(sim, "w11-missing", "u"), "--body",
                  '{"location": "eastus"}')
    assert_refused(err, "ResourceGroupNotFound", "W11")
    _, _, err = sim.az("vm", "show", "-g", "w11", "-n", "v", expect=3)
    assert "ResourceNotFound" in err and "ResourceGroupNotFound" not in err


def test_w12_if_match(sim):
    seed(sim, "w12", [crg()], [uniform(capacity=1)], [vm("v")])

    def conditional(url):
        etag = sim.client.request("GET", url.split("?")[0].replace(sim.env()["ARMSIM_URL"], ""))["etag"]
        err = refused(sim, "rest", "--method", "patch", "--url", url, "--headers", 'If-Match="999"',
                      "--body", '{"tags": {"k": "stale"}}')
        assert_refused(err, "PreconditionFailed", "W12")
        _, done, _ = sim.az("rest", "--method", "patch", "--url", url, "--headers", "If-Match=" + etag,
                            "--body", '{"tags": {"k": "fresh"}}')
        assert done["tags"] == {"k": "fresh"}
        err = refused(sim, "rest", "--method", "put", "--url", url, "--headers", "If-None-Match=*",
                      "--body", '{"location": "eastus"}')
        assert_refused(err, "PreconditionFailed", "W12")

    at_once(lambda: conditional(vmss_url(sim, "w12", "u")), lambda: conditional(vm_url(sim, "w12", "v")))


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


def test_a8_validations(sim):
    sim.seed({"resourceGroups": [{"name": "a8-west", "location": "westus", "capacityReservationGroups": [crg("w")]}]})
    seed(sim, "a8", [crg("g"), crg("reg", ()), crg("big", capacity=2)], [
        uniform("spg", group=None, singlePlacementGroup=True, power={"*": "deallocated"}),
        uniform("fd5", zones=(), group=None, platformFaultDomainCount=5, power={"*": "deallocated"}),
        uniform("spot", group=None, priority="Spot", power={"*": "deallocated"})], [
        vm("regional", zone=None, group=None, power="deallocated"), vm("z1", group=None, power="deallocated"),
        vm("z2", zone="2", group=None, power="deallocated"), vm("e4", group=None, sku=OTHER_SIZE, power="deallocated"),
        vm("on", group="g", power="deallocated")])
    cases = [
        ("vm", "regional", "missing", "was not found"),
        ("vm", "z1", gid(sim, "a8-west", "w"), "same region"),
        ("vm", "regional", "g", "is zonal (1) and Virtual machine 'regional' is regional"),
        ("vm", "z1", "reg", "is regional"),
        ("vm", "z2", "g", "does not cover"),
        ("vm", "e4", "g", "no capacity reservation for size '{}' in zone 1".format(OTHER_SIZE)),
        ("vmss", "spg", "g", "singlePlacementGroup=true"),
        ("vmss", "fd5", "reg", "5 fault domains"),
        ("vmss", "spot", "g", "Spot"),
    ]
    errors = refused_all(sim, *[(kind, "update", "-g", "a8", "-n", name, "--capacity-reservation-group", group)
                                for kind, name, group, _ in cases])
    for (_, _, _, text), err in zip(cases, errors):
        assert_refused(err, "InvalidParameter", "A8", text)
    assert at_once(lambda: vm_group(sim, "a8", "regional"), lambda: model_group(sim, "a8", "spg")) == [None, None]
    err = refused(sim, "vm", "update", "-g", "a8", "-n", "on", "--size", OTHER_SIZE)  # resize (doc R10)
    assert_refused(err, "InvalidParameter", "A8", OTHER_SIZE)
    assert attach(sim, "vm", "a8", "regional", "reg") == "reg"


def test_a9_ephemeral_os_disk_cannot_deallocate(sim):
    seed(sim, "a9", [crg()], [uniform(ephemeralOsDisk=True)], [vm("eph", ephemeralOsDisk=True), vm("disk")])
    for err in refused_all(sim, ("vm", "deallocate", "-g", "a9", "-n", "eph"),
                           ("vmss", "deallocate", "-g", "a9", "-n", "u"),
                           ("vmss", "deallocate", "-g", "a9", "-n", "u", "--instance-ids", "1")):
        assert_refused(err, "OperationNotAllowed", "A9", "Operation 'deallocate' is not supported for VMs or VM Scale "
                       "Set instances using an ephemeral OS disk.")
    eph, members = at_once(lambda: vm_power(sim, "a9", "eph"), lambda: instances(sim, "a9", "u"))
    assert eph == "running" and {p for p, _ in members.values()} == {"running"}
    at_once(lambda: sim.az("vm", "stop", "-g", "a9", "-n", "eph"),  # powerOff keeps the hardware: allowed
            lambda: sim.az("vm", "deallocate", "-g", "a9", "-n", "disk"))
    assert at_once(lambda: vm_power(sim, "a9", "eph"), lambda: vm_power(sim, "a9", "disk")) == [
        "stopped", "deallocated"]


# --- reservations ------------------------------------------------------------------------------------
def test_c1_associated_and_allocated_lists(sim):
    seed(sim, "c1", [crg()], [uniform(power={"1": "deallocated"})],
         [vm("v", power="deallocated"), vm("w", group=None)])
    assert group_view(sim, "c1") == (["u/0", "u/1", "u/2", "v"], ["u/0", "u/2"])
    _, r, _ = sim.az("capacity", "reservation", "show", "-g", "c1", "-c", "g", "-n", "r1", "--instance-view")
    ids = sorted(a["id"].split("/providers/Microsoft.Compute/")[1] for a in r["virtualMachinesAssociated"])
    assert ids == ["virtualMachineScaleSets/u/virtualMachines/{}".format(n) for n in range(3)] + ["virtualMachines/v"]
    assert len(r["instanceView"]["utilizationInfo"]["virtualMachinesAllocated"]) == 2


def test_c2_overallocation_is_never_refused(sim):
    seed(sim, "c2", [crg(capacity=1)], [uniform(power={"*": "deallocated"})], [vm("v", power="deallocated")])
    sim.az("vmss", "start", "-g", "c2", "-n", "u")
    set_capacity(sim, "c2", 0)
    sim.az("vm", "start", "-g", "c2", "-n", "v")
    _, r, _ = sim.az("capacity", "reservation", "show", "-g", "c2", "-c", "g", "-n", "r1", "--instance-view")
    info = r["instanceView"]["utilizationInfo"]
    assert info["currentCapacity"] == 0 and len(info["virtualMachinesAllocated"]) == 4


def test_c3_capacity_changes(sim):
    seed(sim, "c3", [crg(capacity=2)], [], [vm("v")])
    for capacity in ("0", "5"):
        sim.az("capacity", "reservation", "update", "-g", "c3", "-c", "g", "-n", "r1", "--capacity", capacity)
    url = arm(sim, "c3", "/providers/Microsoft.Compute/capacityReservationGroups/g/capacityReservations/r1")
    _, r, _ = rest(sim, "patch", url, {"sku": {"name": OTHER_SIZE, "capacity": 3}})
    assert r["sku"] == {"name": "Standard_D2s_v3", "capacity": 3}  # only the capacity changes
    err = refused(sim, "rest", "--method", "patch", "--url", url, "--body", '{"sku": {"capacity": -1}}')
    assert_refused(err, "InvalidParameter", "C3")
    assert group_view(sim, "c3") == (["v"], ["v"])


def test_c4_delete_refusals(sim):
    seed(sim, "c4", [crg()], [], [vm("v", power="deallocated")])
    err = refused(sim, "capacity", "reservation", "delete", "-g", "c4", "-c", "g", "-n", "r1", "--yes")
    assert_refused(err, "OperationNotAllowed", "C4", "associated with 1")
    err = refused(sim, "capacity", "reservation", "group", "delete", "-g", "c4", "-n", "g", "--yes")
    assert_refused(err, "CannotDeleteResource", "C4", "nested resources")
    setup(sim, "PATCH", vm_url(sim, "c4", "v"), {"properties": {"capacityReservation": {
        "capacityReservationGroup": {}}}})
    sim.az("capacity", "reservation", "delete", "-g", "c4", "-c", "g", "-n", "r1", "--yes")
    sim.az("capacity", "reservation", "group", "delete", "-g", "c4", "-n", "g", "--yes")
    sim.az("capacity", "reservation", "group", "show", "-g", "c4", "-n", "g", expect=3)


def test_c5_association_lists_lag(sim, slow):
    seed(sim, "c5", [crg()], [], [vm("v", power="deallocated")])
    sim.az("vm", "update", "-g", "c5", "-n", "v", "--capacity-reservation-group", "None", "-o", "none")
    assert group_view(sim, "c5") == ([], [])  # no lag by default
    assert group_view(slow, "c5") == (["v"], [])  # seeded with the module's simulators
    slow.az("vm", "update", "-g", "c5", "-n", "v", "--capacity-reservation-group", "None", "--no-wait")
    changed = time.time()
    assert group_view(slow, "c5") == (["v"], [])
    err = refused(slow, "capacity", "reservation", "delete", "-g", "c5", "-c", "g", "-n", "r1", "--yes")
    assert_refused(err, "OperationNotAllowed", "C4")  # the delete check reads the lagging lists
    assert time.time() - changed < LAG, "too slow to observe the lag"
    assert vm_group(slow, "c5", "v") is None  # the VM itself shows the change at once
    wait_until(slow, "c5/providers/Microsoft.Compute/capacityReservationGroups/g",
               lambda g: not g["properties"].get("virtualMachinesAssociated"))
    assert time.time() - changed >= LAG - 0.5 and group_view(slow, "c5") == ([], [])
    slow.az("capacity", "reservation", "delete", "-g", "c5", "-c", "g", "-n", "r1", "--yes")


def test_c6_reservation_location_zone_and_size(sim):
    seed(sim, "c6", [crg()])
    create = ("capacity", "reservation", "create", "-g", "c6", "-c", "g", "--capacity", "1")
    sim.az(*create, "-n", "e4", "--sku", OTHER_SIZE, "--zone", "1", "-o", "none")
    errors = refused_all(sim, create + ("-n", "twin", "--sku", "Standard_D2s_v3", "--zone", "1"),
                         create + ("-n", "z2", "--sku", OTHER_SIZE, "--zone", "2"),
                         create + ("-n", "nozone", "--sku", "Standard_D4s_v3"),
                         create + ("-n", "west", "--sku", "Standard_D4s_v3", "--zone", "1", "-l", "westus"))
    for err, text in zip(errors, ("already has a capacity reservation", "exactly one zone", "exactly one zone",
                                  "location of its group")):
        assert_refused(err, "InvalidParameter", "C6", text)
    _, names, _ = sim.az("capacity", "reservation", "list", "-g", "c6", "-c", "g", "--query", "[].name")
    assert sorted(names) == ["e4", "r1"]


# --- power ---------------------------------------------------------------------------------------------
def test_p1_power_states(sim, slow):
    def settled():
        seed(sim, "p1", [crg()], [], [vm("v")])
        sim.az("vm", "stop", "-g", "p1", "-n", "v")
        assert vm_power(sim, "p1", "v") == "stopped" and group_view(sim, "p1") == (["v"], ["v"])
        sim.az("vm", "deallocate", "-g", "p1", "-n", "v")
        assert vm_power(sim, "p1", "v") == "deallocated" and group_view(sim, "p1") == (["v"], [])
        sim.az("vm", "start", "-g", "p1", "-n", "v")
        assert vm_power(sim, "p1", "v") == "running"

    def transitions():
        seed(slow, "p1", vms=[vm("v", zone=None, group=None)])
        for action, during, done in (("deallocate", "deallocating", "deallocated"),
                                     ("start", "starting", "running")):
            slow.az("vm", action, "-g", "p1", "-n", "v", "--no-wait")
            assert vm_power(slow, "p1", "v") == during
            wait_until(slow, "p1/providers/Microsoft.Compute/virtualMachines/v/instanceView",
                       lambda view: "PowerState/" + done in [s["code"] for s in view["statuses"]])

    at_once(settled, transitions)


def test_p2_started_machine_consumes_its_reservation(sim):
    seed(sim, "p2", [crg()], [], [vm("v", power="deallocated"), vm("free", group=None, power="deallocated")])
    assert group_view(sim, "p2") == (["v"], [])
    for name in ("v", "free"):
        sim.az("vm", "start", "-g", "p2", "-n", name)
    _, r, _ = sim.az("capacity", "reservation", "show", "-g", "p2", "-c", "g", "-n", "r1", "--instance-view")
    assert [a["id"].split("/")[-1] for a in r["instanceView"]["utilizationInfo"]["virtualMachinesAllocated"]] == ["v"]


# --- the table ----------------------------------------------------------------------------------------------
def test_rule_table_lists_every_rule_and_its_reading(sim, opposite, slow):
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
    _, table, _ = slow.az("rest", "--skip-authorization-header", "--url",
                          slow.env()["ARMSIM_URL"] + "/simulator/rules")
    assert [r for r in table["rules"] if r["id"] == "C5"][0]["enabled"] is True


def test_every_rule_has_a_test():
    import test_faults  # rules F1 and F2, with fault injection's own tests
    import test_readings  # the decision rules' readings, in-process
    import test_throttle  # rule W13's tests, with the write budget's own
    names = [n for n in list(globals()) + dir(test_throttle) + dir(test_faults) + dir(test_readings)
             if n.startswith("test_")]
    untested = [r.id for r in rules.RULES
                if not any(("_" + r.id.lower() + "_") in n.replace("test_", "_", 1) for n in names)]
    assert not untested, untested


def test_unknown_rule_option_is_refused(tmp_path):
    from armsim import lifecycle
    with pytest.raises(lifecycle.LifecycleError, match="only these decision rules"):
        lifecycle.up(str(tmp_path / "sim"), rule_overrides=["A4=opposite"])
