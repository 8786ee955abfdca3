# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Every reading of the decision rules added for the open questions (arm-semantics.md §5), in-process: the
simulator's application is called directly (no server, no az), seeded with armsim/seed.py, and its clock is
driven by the test where time matters (rule C5). The rules that predate them (A3s, A5s, A5i, A7) are tested
through stock az in test_rules.py.
"""
import email.message
import json

import pytest

from armsim import auth, rules, seed as seeding
from armsim.app import build
from armsim.backend import Options
from armsim.client import ArmError, Client
from armsim.server import Request
from builders import crg, uniform, vm

BASE = "https://127.0.0.1:1"
VMSS = "/providers/Microsoft.Compute/virtualMachineScaleSets/"


class Local(Client):
    """armsim/client.py's client, calling the application in this process instead of a server."""

    def __init__(self, *readings, **options):
        opts = Options(lro_seconds=0, pause_scale=0, rule_overrides=rules.parse_overrides(readings), **options)
        self.app = build(opts)
        self.app.base_url = self.base = BASE
        self.backend = self.app.backend
        self.sub = opts.subscription_id
        self._token = auth.issue(opts)
        self.clock = None  # set: the simulator's time, advanced by the test

    def call(self, method, path, body=None, auth=True):
        path = path[len(BASE):] if path.startswith(BASE) else path
        if "api-version=" not in path and not path.startswith("/simulator/"):
            path += ("&" if "?" in path else "?") + "api-version=2024-11-01"
        headers = email.message.Message()  # case-insensitive, as the server's
        headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = "Bearer " + self._token
        raw = json.dumps(body).encode() if body is not None else b""
        resp = self.app.dispatch(Request(method, path, headers, raw, BASE))
        out = resp.body
        if isinstance(out, bytes):
            out = json.loads(out) if out else None
        return resp.status, resp.headers, json.loads(json.dumps(out)) if out is not None else None

    def freeze(self, start=1.0e9):
        self.clock = [start]
        self.backend.now = lambda: self.clock[0]

    def seed(self, rg, groups=(), scale_sets=(), vms=()):
        seeding.seed_group(self, {"name": rg, "capacityReservationGroups": list(groups),
                                  "scaleSets": list(scale_sets), "virtualMachines": list(vms)}, "eastus",
                           {"resourceGroups": 0, "capacityReservationGroups": 0, "scaleSets": 0,
                            "virtualMachines": 0})

    def rg(self, rg):
        return "/subscriptions/{}/resourceGroups/{}".format(self.sub, rg)

    def gid(self, rg, group="g"):
        return self.rg(rg) + "/providers/Microsoft.Compute/capacityReservationGroups/" + group

    def refused(self, method, path, body=None):
        status, _, answer = self.call(method, path, body)
        assert status == 409, (status, answer)
        return answer["error"]["message"]


def association(group_id):
    return {"capacityReservationGroup": {"id": group_id} if group_id else {}}


def vm_path(c, rg, name, action=""):
    return c.rg(rg) + "/providers/Microsoft.Compute/virtualMachines/" + name + action


def vm_group(c, rg, name):
    return ((c.request("GET", vm_path(c, rg, name)).get("properties") or {}).get("capacityReservation")
            or {}).get("capacityReservationGroup", {}).get("id")


def set_vm_group(c, rg, name, group_id):
    return c.call("PATCH", vm_path(c, rg, name), {"properties": {"capacityReservation": association(group_id)}})


def set_model_group(c, rg, name, group_id):
    """A full PUT of the scale set with the association changed, as az vmss update sends it."""
    path = c.rg(rg) + VMSS + name
    body = c.request("GET", path)
    body["properties"]["virtualMachineProfile"]["capacityReservation"] = association(group_id)
    return c.call("PUT", path, body)


def model_group(c, rg, name):
    profile = c.request("GET", c.rg(rg) + VMSS + name)["properties"]["virtualMachineProfile"]
    return ((profile.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")


def instances(c, rg, name="u"):
    return c.list(c.rg(rg) + VMSS + name + "/virtualMachines")


def associated(c, rg, group="g"):
    view = c.request("GET", c.gid(rg, group) + "?$expand=instanceView")
    return sorted(v["id"].rsplit("/", 1)[-1] for v in view["properties"].get("virtualMachinesAssociated") or [])


def action(c, rg, name, verb, ids=None):
    c.request("POST", c.rg(rg) + VMSS + name + "/" + verb, {"instanceIds": ids} if ids else None)


def ok(answer):
    status, _, body = answer
    assert status < 300, (status, body)
    return body


@pytest.mark.parametrize("reading", ["allowed", "refused"])
def test_a3p_running_zonal_vm_attached_in_place(reading):
    c = Local("A3p=" + reading)
    c.seed("rg", [crg()], vms=[vm("v", group=None)])
    if reading == "allowed":
        ok(set_vm_group(c, "rg", "v", c.gid("rg")))
        assert vm_group(c, "rg", "v").lower() == c.gid("rg").lower() and associated(c, "rg") == ["v"]
    else:
        message = c.refused("PATCH", vm_path(c, "rg", "v"), {"properties": {"capacityReservation": association(
            c.gid("rg"))}})
        assert "rule A3p" in message and vm_group(c, "rg", "v") is None
        c.request("POST", vm_path(c, "rg", "v", "/deallocate"))
        ok(set_vm_group(c, "rg", "v", c.gid("rg")))  # A2: deallocated, it moves freely


@pytest.mark.parametrize("reading", ["refused", "allowed-at-zero"])
def test_a3z_regional_attach_at_capacity_zero(reading):
    c = Local("A3z=" + reading)
    c.seed("rg", [crg(zones=(), capacity=0), crg("busy", zones=())], [uniform(zones=(), group=None)],
           [vm("v", zone=None, group=None)])
    vm_answer = set_vm_group(c, "rg", "v", c.gid("rg"))
    model_answer = set_model_group(c, "rg", "u", c.gid("rg"))
    if reading == "refused":
        assert vm_answer[0] == model_answer[0] == 409
        assert "rule A3)" in vm_answer[2]["error"]["message"] and "rule A5)" in model_answer[2]["error"]["message"]
    else:
        ok(vm_answer), ok(model_answer)
        assert vm_group(c, "rg", "v") and model_group(c, "rg", "u")
    # a reservation above 0 is never attached to in place
    assert set_vm_group(c, "rg", "v", c.gid("rg", "busy"))[0] == 409


@pytest.mark.parametrize("reading", ["any", "zonal-only"])
def test_a4z_regional_machine_leaves_at_capacity_zero(reading):
    c = Local("A4z=" + reading)
    c.seed("rg", [crg("reg", zones=(), capacity=0), crg("zon", capacity=0)],
           [uniform(zones=(), group="reg")], [vm("regional", zone=None, group="reg"), vm("zonal", group="zon")])
    ok(set_vm_group(c, "rg", "zonal", None))  # a zonal machine leaves at capacity 0 in every reading
    if reading == "any":
        ok(set_vm_group(c, "rg", "regional", None))
        ok(set_model_group(c, "rg", "u", None))
        assert vm_group(c, "rg", "regional") is None and model_group(c, "rg", "u") is None
    else:
        assert "rule A4z" in c.refused("PATCH", vm_path(c, "rg", "regional"),
                                       {"properties": {"capacityReservation": association(None)}})
        assert set_model_group(c, "rg", "u", None)[0] == 409
        assert vm_group(c, "rg", "regional") and model_group(c, "rg", "u")


def regional_manual_attached_while_deallocated(c):
    """Q4's landscape: a regional Manual scale set deallocated, then its model associated."""
    c.seed("rg", [crg(zones=())], [uniform(zones=(), group=None)])
    action(c, "rg", "u", "deallocate")
    ok(set_model_group(c, "rg", "u", c.gid("rg")))
    assert [i["properties"]["latestModelApplied"] for i in instances(c, "rg")] == [False] * 3


@pytest.mark.parametrize("reading", ["keeps-model", "applies-model"])
def test_a6s_start_after_a_model_change(reading):
    c = Local("A6s=" + reading)
    regional_manual_attached_while_deallocated(c)
    action(c, "rg", "u", "start")
    applied = reading == "applies-model"
    assert [i["properties"]["latestModelApplied"] for i in instances(c, "rg")] == [applied] * 3
    assert associated(c, "rg") == (["0", "1", "2"] if applied else [])


@pytest.mark.parametrize("reading", ["applies", "on-start"])
def test_a6d_manualupgrade_of_deallocated_instances(reading):
    c = Local("A6d=" + reading)
    regional_manual_attached_while_deallocated(c)
    action(c, "rg", "u", "manualupgrade", ["0", "1", "2"])
    now = reading == "applies"
    assert [i["properties"]["latestModelApplied"] for i in instances(c, "rg")] == [now] * 3
    assert associated(c, "rg") == (["0", "1", "2"] if now else [])
    action(c, "rg", "u", "start")  # either way, started they are on the latest model
    assert [i["properties"]["latestModelApplied"] for i in instances(c, "rg")] == [True] * 3
    assert associated(c, "rg") == ["0", "1", "2"]


@pytest.mark.parametrize("reading", ["rolls", "waits"])
def test_a6r_rolling_model_change(reading):
    c = Local("A6r=" + reading)
    c.seed("rg", [crg()], [uniform(policy="Rolling", group=None)])
    ok(set_model_group(c, "rg", "u", c.gid("rg")))  # a zonal set: attached in place (A5)
    status, _, latest = c.call("GET", c.rg("rg") + VMSS + "u/rollingUpgrades/latest")
    if reading == "rolls":
        assert status == 200 and latest["properties"]["runningStatus"]["code"] == "Completed"
        assert associated(c, "rg") == ["0", "1", "2"]
    else:
        assert status == 404 and associated(c, "rg") == []
        assert not any(i["properties"]["latestModelApplied"] for i in instances(c, "rg"))
        action(c, "rg", "u", "manualupgrade", ["0", "1", "2"])
        assert associated(c, "rg") == ["0", "1", "2"]


@pytest.mark.parametrize("reading", ["applied", "ignored"])
def test_a10_scale_set_patch_carrying_the_association(reading):
    c = Local("A10=" + reading)
    c.seed("rg", [crg()], [uniform(group=None)])
    path = c.rg("rg") + VMSS + "u"
    body = ok(c.call("PATCH", path, {"properties": {"virtualMachineProfile": {
        "capacityReservation": association(c.gid("rg"))}}}))
    group = ((body["properties"]["virtualMachineProfile"].get("capacityReservation") or {})
             .get("capacityReservationGroup") or {}).get("id")
    assert bool(group) == (reading == "applied") and bool(model_group(c, "rg", "u")) == (reading == "applied")
    ok(set_model_group(c, "rg", "u", c.gid("rg")))  # a PUT is applied in every reading
    assert model_group(c, "rg", "u")


@pytest.mark.parametrize("reading", ["hidden", "shown"])
def test_a11_uniform_instance_shows_its_association(reading):
    c = Local("A11=" + reading)
    c.seed("rg", [crg()], [uniform(capacity=2)])
    shown = [(i["properties"].get("capacityReservation") or {}).get("capacityReservationGroup", {}).get("id")
             for i in instances(c, "rg")]
    if reading == "hidden":
        assert shown == [None, None]
    else:
        assert [s.lower() for s in shown] == [c.gid("rg").lower()] * 2
        one = c.request("GET", c.rg("rg") + VMSS + "u/virtualMachines/0")
        assert one["properties"]["capacityReservation"]["capacityReservationGroup"]["id"].lower() == \
            c.gid("rg").lower()


@pytest.mark.parametrize("reading", ["none", "lag"])
def test_c5_lag_reading(reading):
    c = Local("C5=" + reading)
    c.freeze()
    c.seed("rg", [crg()], vms=[vm("v", group=None, power="deallocated")])
    ok(set_vm_group(c, "rg", "v", c.gid("rg")))
    assert vm_group(c, "rg", "v")  # the machine's own model changes at once in every reading
    assert associated(c, "rg") == ([] if reading == "lag" else ["v"])
    if reading == "lag":
        c.clock[0] += rules.LAG_SECONDS - 0.5
        assert associated(c, "rg") == []
        c.clock[0] += 1
        assert associated(c, "rg") == ["v"]
    with pytest.raises(ArmError):  # C4 reads the same lists: the reservation is in use
        c.request("DELETE", c.gid("rg") + "/capacityReservations/r1")


def test_readings_are_named_and_opposite_still_works():
    assert rules.parse_overrides(["A5i=opposite", "A6d=default", "C5=lag"]) == {
        "A5i": "on-instances", "A6d": "applies", "C5": "lag"}
    with pytest.raises(rules.RuleOptionError, match="one of applies, on-start"):
        rules.parse_overrides(["A6d=sometimes"])
    assert len(rules.SWITCHABLE) >= 8 and all(r.question for r in rules.RULES if r.readings)
