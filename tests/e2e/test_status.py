# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`az vmss capacity-reservation status` with the installed wheel against armsim."""
import math

import pytest

SIZE = "Standard_D2s_v3"


def crg(name, zones=None, capacity=4, reservations=None):
    zones = zones or []
    return {"name": name, "zones": zones, "reservations": reservations or (
        [{"name": "r" + z, "sku": SIZE, "capacity": capacity, "zone": z} for z in zones] if zones
        else [{"name": "r", "sku": SIZE, "capacity": capacity}])}


def landscape(rg, groups, scale_sets, location="eastus"):
    return {"location": location, "resourceGroups": [
        {"name": rg, "capacityReservationGroups": groups, "scaleSets": scale_sets}]}


def status(sim, rg, name, *extra, expect=0):
    return sim.az("vmss", "capacity-reservation", "status", "-g", rg, "-n", name, *extra, expect=expect)


def by_name(result):
    return {i["name"]: i for i in result["instances"]}


def test_uniform_zonal_attached(az_sim):
    az_sim.seed(landscape("st-uz", [crg("g", ["1", "2"])], [
        {"name": "u", "sku": SIZE, "capacity": 4, "zones": ["1", "2"], "capacityReservationGroup": "g",
         "upgradePolicy": "Automatic", "power": {"3": "deallocated"}}]))
    _, s, _ = status(az_sim, "st-uz", "u")
    assert s["state"] == "attached" and s["orchestrationMode"] == "Uniform" and s["upgradePolicy"] == "Automatic"
    assert s["zones"] == ["1", "2"] and s["sku"]["name"] == SIZE and s["sku"]["capacity"] == 4
    assert s["capacityReservationGroup"].lower().endswith("/capacityreservationgroups/g")
    assert all(i["inSync"] and i["latestModelApplied"] for i in s["instances"])
    assert by_name(s)["u_3"]["powerState"] == "deallocated" and by_name(s)["u_0"]["powerState"] == "running"
    zones = {r["zone"]: r for r in s["reservations"]}
    assert zones["1"]["associated"] == 2 and zones["1"]["allocated"] == 2
    assert zones["2"]["associated"] == 2 and zones["2"]["allocated"] == 1  # instance 3 is deallocated
    assert s["summary"]["instances"] == 4 and s["summary"]["inSync"] == 4 and s["summary"]["outOfSync"] == 0


def test_uniform_regional_detached(az_sim):
    az_sim.seed(landscape("st-ur", [], [{"name": "u", "sku": SIZE, "capacity": 2}]))
    _, s, _ = status(az_sim, "st-ur", "u")
    assert s["state"] == "detached" and s["capacityReservationGroup"] is None and s["zones"] == []
    assert s["reservations"] == [] and all(i["capacityReservationGroup"] is None for i in s["instances"])


def test_uniform_manual_partial_until_instances_upgraded(az_sim):
    az_sim.seed(landscape("st-um", [crg("g", ["1"])], [
        {"name": "u", "sku": SIZE, "capacity": 3, "zones": ["1"], "upgradePolicy": "Manual"}]))
    az_sim.az("vmss", "update", "-g", "st-um", "-n", "u", "--capacity-reservation-group", "g")
    _, s, _ = status(az_sim, "st-um", "u")
    assert s["state"] == "partial" and s["capacityReservationGroup"].lower().endswith("/g")
    assert all(i["latestModelApplied"] is False and i["inSync"] is False for i in s["instances"])
    assert "attach" in s["nextAction"] and s["summary"]["outOfSync"] == 3
    az_sim.az("vmss", "update-instances", "-g", "st-um", "-n", "u", "--instance-ids", "*")
    _, s, _ = status(az_sim, "st-um", "u")
    assert s["state"] == "attached" and all(i["latestModelApplied"] for i in s["instances"])


def test_flexible_without_profile_reports_the_group_members_share(az_sim):
    members = [{"name": "fx-{}".format(n), "zone": "1", "capacityReservationGroup": "g"} for n in range(3)]
    members[2]["power"] = "deallocated"
    az_sim.seed(landscape("st-fx", [crg("g", ["1"])], [
        {"name": "fx", "orchestrationMode": "Flexible", "profile": False, "members": members}]))
    _, s, _ = status(az_sim, "st-fx", "fx")
    assert s["orchestrationMode"] == "Flexible" and s["state"] == "attached"
    assert s["capacityReservationGroup"].lower().endswith("/g")
    assert s["capacityReservationGroupSource"] == "members"
    assert by_name(s)["fx-2"]["powerState"] == "deallocated"
    assert all(i["latestModelApplied"] is None for i in s["instances"])
    az_sim.az("vm", "deallocate", "-g", "st-fx", "-n", "fx-1")
    az_sim.az("vm", "update", "-g", "st-fx", "-n", "fx-1", "--capacity-reservation-group", "None")
    _, s, _ = status(az_sim, "st-fx", "fx")
    assert s["state"] == "partial" and by_name(s)["fx-1"]["capacityReservationGroup"] is None


def test_flexible_regional_with_profile_detached(az_sim):
    az_sim.seed(landscape("st-fp", [], [{"name": "fp", "orchestrationMode": "Flexible", "sku": SIZE,
                                        "capacity": 2}]))
    _, s, _ = status(az_sim, "st-fp", "fp")
    assert s["state"] == "detached" and len(s["instances"]) == 2 and s["zones"] == []


def test_overallocated_reservation_is_flagged_and_warned(az_sim):
    az_sim.seed(landscape("st-ov", [crg("g", ["1"], capacity=1)], [
        {"name": "u", "sku": SIZE, "capacity": 3, "zones": ["1"], "capacityReservationGroup": "g"}]))
    _, s, err = status(az_sim, "st-ov", "u")
    (r,) = s["reservations"]
    assert r["capacity"] == 1 and r["allocated"] == 3 and r["overallocated"] is True
    assert "overallocated" in err


def test_output_formats(az_sim):
    az_sim.seed(landscape("st-of", [crg("g", ["1"])], [
        {"name": "u", "sku": SIZE, "capacity": 2, "zones": ["1"], "capacityReservationGroup": "g"}]))
    _, table, _ = status(az_sim, "st-of", "u", "-o", "table")
    assert "u_0" in table and "u_1" in table and "attached" in table and "running" in table
    _, tsv, _ = status(az_sim, "st-of", "u", "-o", "tsv")
    assert "attached" in tsv
    _, yaml_out, _ = status(az_sim, "st-of", "u", "-o", "yaml")
    assert "state: attached" in yaml_out
    _, state, _ = status(az_sim, "st-of", "u", "--query", "state")
    assert state == "attached"


def test_status_requests_do_not_grow_with_instances(az_sim):
    az_sim.seed(landscape("st-big", [crg("g", ["1"], capacity=1000)], [
        {"name": "big", "sku": SIZE, "capacity": 1000, "zones": ["1"], "capacityReservationGroup": "g"}]))
    mark = az_sim.mark()
    _, s, _ = status(az_sim, "st-big", "big")
    assert s["summary"]["instances"] == 1000 and s["state"] == "attached"
    log = [e for e in az_sim.requests(mark)["requests"] if "/st-big/" in e["path"].lower() + "/"]
    pages = [e for e in log if e["path"].endswith("/virtualMachines")]
    assert len(pages) == math.ceil(1000 / 100)  # one paged list, at the simulator's default page size
    assert len(log) - len(pages) <= 4, [(e["method"], e["path"]) for e in log]
    assert all(e["method"] == "GET" for e in log)


@pytest.mark.parametrize("args, needle", [
    (["-g", "no-such-rg", "-n", "u"], "no-such-rg"),
    (["-g", "st-ur", "-n", "nope"], "nope"),
])
def test_missing_resources_exit_3(az_sim, args, needle):
    az_sim.seed(landscape("st-ur", [], [{"name": "u", "sku": SIZE, "capacity": 1}]))
    code, _, err = az_sim.az("vmss", "capacity-reservation", "status", *args, expect=3)
    assert needle in err


def test_missing_scale_set_is_resource_not_found(az_sim):
    _, _, err = status(az_sim, "st-ur", "nope", "--debug", expect=3)
    assert "ResourceNotFoundError" in err


def test_invalid_name_is_rejected_before_any_request(az_sim):
    mark = az_sim.mark()
    code, _, err = status(az_sim, "st-ur", "bad name!", expect=None)
    assert code != 0 and "--name" in err
    assert not [e for e in az_sim.requests(mark)["requests"] if "virtualMachineScaleSets" in e["path"]]


def test_deleted_group_is_reported_not_a_crash(az_sim):
    az_sim.seed(landscape("st-del", [crg("g", ["1"])], [
        {"name": "u", "sku": SIZE, "capacity": 0, "zones": ["1"], "capacityReservationGroup": "g"}]))
    # nothing consumes the reservation (no instances), so it and then the group can be deleted (C4)
    az_sim.az("capacity", "reservation", "delete", "-g", "st-del", "-c", "g", "-n", "r1", "--yes")
    az_sim.az("capacity", "reservation", "group", "delete", "-g", "st-del", "-n", "g", "--yes")
    _, s, err = status(az_sim, "st-del", "u")
    assert s["capacityReservationGroupError"]["status"] == 404 and s["state"] != "attached"
    assert "g" in err


def test_unreadable_group_is_reported_not_a_crash(az_sim):
    foreign = ("/subscriptions/00000000-0000-0000-0000-0000000000ff/resourceGroups/other/providers/"
               "Microsoft.Compute/capacityReservationGroups/theirs")
    az_sim.seed(landscape("st-403", [], [
        {"name": "u", "sku": SIZE, "capacity": 1, "capacityReservationGroup": foreign}]))
    _, s, err = status(az_sim, "st-403", "u")
    assert s["capacityReservationGroupError"]["status"] == 403
    assert s["capacityReservationGroup"].lower() == foreign.lower()


def test_block_group_type_and_schedules(az_sim):
    import datetime
    start = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=2)
    end = start + datetime.timedelta(days=3)
    block = dict(crg("b", ["1"]), reservationType="Block")
    block["reservations"][0]["schedule"] = {"start": str(start), "end": str(end)}
    az_sim.seed(landscape("st-block", [block, crg("t", ["1"])], [
        {"name": "u", "sku": SIZE, "capacity": 2, "zones": ["1"], "capacityReservationGroup": "b"},
        {"name": "v", "sku": SIZE, "capacity": 1, "zones": ["1"], "capacityReservationGroup": "t"}]))
    (_, s, _), (_, targeted, _) = status(az_sim, "st-block", "u"), status(az_sim, "st-block", "v")
    assert s["state"] == "attached" and s["capacityReservationGroupType"] == "Block"
    shown = {"start": "{}T12:00:00Z".format(start), "end": "{}T11:30:00Z".format(end)}
    assert s["reservations"][0]["schedule"] == shown
    assert targeted["capacityReservationGroupType"] == "Targeted" and targeted["reservations"][0]["schedule"] is None
