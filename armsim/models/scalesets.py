"""Virtual machine scale sets, Uniform and Flexible, their Uniform instances, and upgrades (A6, A7)."""
import copy
import json

from ..backend import event, iso
from ..errors import InvalidParameter, NotFound, OperationNotAllowed, PropertyChangeNotAllowed, not_found
from ..ids import ResourceId, norm_id
from . import power, vms
from .common import (KEEP, association_body, bump_etag, fill_storage, guid, keep_storage, merge, new_resource,
                     os_profile_defaults, require_group, requested_association)

VMSS = "Microsoft.Compute/virtualMachineScaleSets"
INSTANCE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
PROFILE_PATH = "properties.virtualMachineProfile.capacityReservation"
# what a PUT of an existing scale set may leave out and still keep
KEPT_ON_PUT = ("provisioningState", "uniqueId", "timeCreated", "orchestrationMode", "virtualMachineProfile",
               "platformFaultDomainCount", "singlePlacementGroup", "upgradePolicy")
INSTANCE_PROFILE_KEYS = ("storageProfile", "osProfile", "diagnosticsProfile", "securityProfile", "licenseType")
UPGRADE_MODES = {"automatic": "Automatic", "manual": "Manual", "rolling": "Rolling"}
# what Azure fills in for upgradePolicy.mode Rolling without a policy (wire: test_vmss_rolling_upgrade #71)
ROLLING_DEFAULT = {"maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20,
                   "maxUnhealthyUpgradedInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"}


def get(backend, rid):
    res = backend.get(rid)
    if res is None or res.type != VMSS:
        raise not_found(rid)
    return res


def is_flexible(res):
    return res.props.get("orchestrationMode") == "Flexible"


def model_group(res):
    return res.state.get("crg")


# --- create and update -------------------------------------------------------------------------
def put_vmss(backend, rid, body, patch=False):
    """Create or update a scale set (PUT replaces, PATCH merges). Returns (resource, created, operation)."""
    require_group(backend, rid)
    body = copy.deepcopy(body or {})
    existing = backend.get(rid)
    if existing is None and patch:
        raise not_found(rid)
    profile_in = (body.get("properties") or {}).get("virtualMachineProfile") or {}
    wanted = requested_association(profile_in.pop("capacityReservation", None), PROFILE_PATH)
    if existing is None:
        return _create(backend, rid, body, wanted)
    old_profile = _model_key(existing)
    old_mode = existing.props.get("orchestrationMode")
    if patch:
        new_body = merge(copy.deepcopy(existing.body), body)
    else:
        new_body = body
        new_props = new_body.setdefault("properties", {})
        for key in KEPT_ON_PUT:
            if key in existing.props:
                new_props.setdefault(key, copy.deepcopy(existing.props[key]))
        new_props.get("virtualMachineProfile", {}).pop("capacityReservation", None)
        keep_storage(copy.deepcopy((existing.props.get("virtualMachineProfile") or {}).get("storageProfile")),
                     (new_props.get("virtualMachineProfile") or {}).get("storageProfile"))
    if new_body["properties"].get("orchestrationMode") != old_mode:
        raise PropertyChangeNotAllowed("Changing property 'orchestrationMode' is not allowed.",
                                       target="orchestrationMode")
    for key in ("id", "name", "type", "location", "etag"):
        new_body[key] = existing.body.get(key)
    if "zones" not in body and existing.body.get("zones"):
        new_body["zones"] = existing.body["zones"]
    old_time = (existing.props.get("virtualMachineProfile") or {}).get("timeCreated")
    existing.body = new_body
    set_model_group(existing, existing.state.get("crg") if wanted is KEEP else wanted)
    _fill_model(existing)
    changed = _model_key(existing) != old_profile
    if changed:
        existing.state["model_version"] = existing.state.get("model_version", 1) + 1
    _stamp_profile(backend, existing, None if changed else old_time)
    existing.props["provisioningState"] = "Updating"
    bump_etag(existing)
    op = backend.begin(existing.body["location"], "vmss_updated", id=str(rid), upgrade=changed)
    return existing, False, op


def _create(backend, rid, body, wanted):
    props = body.setdefault("properties", {})
    if not body.get("location"):
        raise InvalidParameter("Required parameter 'location' is missing (null).", target="location")
    mode = props.setdefault("orchestrationMode", "Uniform")
    if mode not in ("Uniform", "Flexible"):
        raise InvalidParameter("The value '{}' of orchestrationMode is not valid.".format(mode))
    profile = props.get("virtualMachineProfile")
    if mode == "Uniform" and (not profile or not (body.get("sku") or {}).get("name")):
        raise InvalidParameter("A Uniform scale set requires 'sku' and 'properties.virtualMachineProfile'.")
    zones = body.get("zones") or []
    if mode == "Uniform":
        props.setdefault("upgradePolicy", {"mode": "Manual"})
        props.setdefault("singlePlacementGroup", True)
        props.setdefault("overprovision", True)
        props.setdefault("platformFaultDomainCount", 5 if props["singlePlacementGroup"] and not zones else 1)
    else:
        props.setdefault("singlePlacementGroup", False)
        props.setdefault("platformFaultDomainCount", 1)
    if body.get("sku"):
        body["sku"].setdefault("tier", "Standard")
        body["sku"]["capacity"] = int(body["sku"].get("capacity") or 0)
    res = new_resource(rid, {k: v for k, v in body.items() if k not in ("id", "name", "type", "location", "etag")},
                       body["location"])
    res.props.update(provisioningState="Creating", uniqueId=guid(), timeCreated=iso(backend.now()))
    res.state.update(model_version=1, next_instance=0)
    set_model_group(res, None if wanted is KEEP else wanted)
    _fill_model(res)
    _stamp_profile(backend, res)
    bump_etag(res)
    backend.put(res)
    op = backend.begin(res.body["location"], "vmss_updated", id=str(rid), upgrade=False)
    return res, True, op


def _fill_model(res):
    """The defaults Azure adds to a scale set's model (OS profile flags, the upgrade mode's casing and policy),
    and what it never returns (passwords, custom data)."""
    profile = res.props.get("virtualMachineProfile") or {}
    vms.strip_secrets(profile)
    os_profile_defaults(profile.get("osProfile"))
    policy = res.props.get("upgradePolicy")
    if isinstance(policy, dict) and policy.get("mode"):
        policy["mode"] = UPGRADE_MODES.get(policy["mode"].lower(), policy["mode"])
        if policy["mode"] == "Rolling":
            policy.setdefault("rollingUpgradePolicy", dict(ROLLING_DEFAULT))


def _model_key(res):
    """The scale-set model as compared to tell whether an update changed it."""
    profile = {k: v for k, v in (res.props.get("virtualMachineProfile") or {}).items() if k != "timeCreated"}
    return json.dumps(profile, sort_keys=True)


def _stamp_profile(backend, res, when=None):
    """virtualMachineProfile.timeCreated: when the model was last created or changed."""
    profile = res.props.get("virtualMachineProfile")
    if isinstance(profile, dict):
        profile["timeCreated"] = when or iso(backend.now())


def set_model_group(res, group_id):
    res.state["crg"] = norm_id(group_id) if group_id else None
    profile = res.props.get("virtualMachineProfile")
    if profile is None:
        return
    if group_id:
        profile["capacityReservation"] = association_body(norm_id(group_id))
    else:
        profile.pop("capacityReservation", None)


@event("vmss_updated")
def _vmss_updated(backend, id, upgrade):
    res = backend.get(id)
    if res is None:
        return
    reconcile(backend, res)
    if upgrade and not is_flexible(res):
        mode = (res.props.get("upgradePolicy") or {}).get("mode", "Manual")
        if mode in ("Automatic", "Rolling"):
            targets = instances(backend, res)
            for inst in targets:
                apply_model(backend, res, inst)
            if mode == "Rolling":
                res.state["rolling"] = {"startTime": iso(backend.now()), "endTime": iso(backend.now()),
                                        "code": "Completed", "successful": len(targets)}
    res.props["provisioningState"] = "Succeeded"


def reconcile(backend, res):
    """Create or remove members so that their number matches sku.capacity."""
    sku = res.body.get("sku")
    profile = res.props.get("virtualMachineProfile")
    if not sku or not profile:
        return
    capacity = int(sku.get("capacity") or 0)
    current = members(backend, res)
    for extra in current[capacity:]:
        vms.remove(backend, extra) if is_flexible(res) else backend.remove(extra)
    del current[capacity:]
    while len(current) < capacity:
        current.append(_new_member(backend, res))


def _new_member(backend, res):
    n = res.state.get("next_instance", 0)
    res.state["next_instance"] = n + 1
    zones = res.body.get("zones") or []
    zone = zones[n % len(zones)] if zones else None
    if is_flexible(res):
        name = "{}_{}".format(res.id.name[:55], guid().replace("-", "")[:8])
        return vms.create_member(backend, res, name, res.props["virtualMachineProfile"], zone)
    rid = res.id.child("virtualMachines", str(n))
    sku = {"name": res.body["sku"]["name"], "tier": res.body["sku"].get("tier", "Standard")}
    inst = new_resource(rid, {"tags": {}, "instanceId": str(n), "sku": sku}, res.body["location"])
    inst.body["name"] = "{}_{}".format(res.id.name, n)
    if zone:
        inst.body["zones"] = [zone]
    inst.props.update(latestModelApplied=True, modelDefinitionApplied="VirtualMachineScaleSet", vmId=guid(),
                      provisioningState="Succeeded", resilientVMDeletionStatus="Disabled",
                      timeCreated=iso(backend.now()))
    inst.state.update(power="running", power_time=backend.now(), size=res.body["sku"]["name"], zone=zone,
                      os_disk="{}_{}_OsDisk_1_{}".format(res.id.name, n, guid().replace("-", "")[:32]))
    apply_model(backend, res, inst, computer_name=True)
    bump_etag(inst)
    return backend.put(inst)


def apply_model(backend, res, inst, computer_name=False):
    """Bring a Uniform instance to the scale set's latest model, association included (A6).

    As Azure shows an instance (wire: test_vmss_vms #13, #14): the profile's network interface configurations
    under networkProfileConfiguration, the interfaces made from them under networkProfile, and the size."""
    profile = res.props.get("virtualMachineProfile") or {}
    for key in INSTANCE_PROFILE_KEYS:
        if key in profile:
            inst.props[key] = copy.deepcopy(profile[key])
    configs = copy.deepcopy((profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or [])
    inst.props["networkProfileConfiguration"] = {"networkInterfaceConfigurations": configs}
    inst.props["networkProfile"] = {"networkInterfaces": [
        {"id": "{}/networkInterfaces/{}".format(inst.id, c.get("name", "nic"))} for c in configs]}
    inst.props["hardwareProfile"] = {"vmSize": res.body["sku"]["name"]}
    if res.props.get("additionalCapabilities"):
        inst.props["additionalCapabilities"] = copy.deepcopy(res.props["additionalCapabilities"])
    if isinstance(inst.props.get("storageProfile"), dict):
        fill_storage(inst.id, inst.props["storageProfile"], inst.state["os_disk"])
    os_profile = inst.props.setdefault("osProfile", {})
    prefix = os_profile.pop("computerNamePrefix", None) or res.id.name[:9]
    for key in vms.SECRETS:
        os_profile.pop(key, None)
    os_profile["computerName"] = inst.state.setdefault(
        "computer_name", "{}{:06X}".format(prefix[:9], int(inst.body["instanceId"])))
    inst.state["model_version"] = res.state.get("model_version", 1)
    inst.state["crg"] = model_group(res)


# --- members ------------------------------------------------------------------------------------
def instances(backend, res):
    return sorted(backend.children(res.id, INSTANCE), key=lambda i: int(i.body["instanceId"]))


def members(backend, res):
    """Uniform instances by instance id, or Flexible member VMs by creation."""
    if is_flexible(res):
        return sorted(vms.members(backend, str(res.id)), key=lambda v: v.props.get("timeCreated", ""))
    return instances(backend, res)


def member(backend, res, instance_id):
    for m in members(backend, res):
        if _instance_id(res, m).lower() == instance_id.lower():
            return m
    raise NotFound("The Resource 'Microsoft.Compute/virtualMachineScaleSets/{}/virtualMachines/{}' under resource "
                   "group '{}' was not found.".format(res.id.name, instance_id, res.id.group))


def _instance_id(res, m):
    return m.id.name if is_flexible(res) else m.body["instanceId"]


def targets(backend, res, instance_ids):
    """The members an action names: no list, or '*' in it, means every member (W9)."""
    if not instance_ids or "*" in instance_ids:
        return members(backend, res)
    return [member(backend, res, str(i)) for i in instance_ids]


# --- actions ------------------------------------------------------------------------------------
def action(backend, res, name, instance_ids):
    name = name.lower()
    chosen = targets(backend, res, instance_ids)
    if name == "manualupgrade":
        if not instance_ids:
            raise InvalidParameter("Required parameter 'instanceIds' is missing (null).", target="instanceIds")
        return backend.begin(res.body["location"], "upgraded", id=str(res.id), ids=[str(i.id) for i in chosen])
    if name == "delete":
        if not instance_ids:
            raise InvalidParameter("Required parameter 'instanceIds' is missing (null).", target="instanceIds")
        return backend.begin(res.body["location"], "members_deleted", id=str(res.id), ids=[str(i.id) for i in chosen])
    if name == "osrollingupgrade":
        res.state["rolling"] = {"startTime": iso(backend.now()), "code": "RollingForward", "pending": len(chosen)}
        return backend.begin(res.body["location"], "os_upgraded", id=str(res.id))
    if not chosen:
        return None
    done = power.begin_action(backend, chosen, name)
    return backend.begin(res.body["location"], "power_done", ids=[str(t.id) for t in chosen], power=done, action=name)


@event("os_upgraded")
def _os_upgraded(backend, id):
    res = backend.get(id)
    rolling = res.state.get("rolling") if res is not None else None
    if rolling and rolling["code"] == "RollingForward":
        rolling.update(code="Completed", successful=rolling.pop("pending", 0))


def cancel_rolling(backend, res):
    """Cancel the rolling upgrade in progress: 409 when none is (wire: test_vmss_rolling_upgrade #88)."""
    rolling = res.state.get("rolling")
    if not rolling or rolling["code"] != "RollingForward":
        raise OperationNotAllowed("There is no ongoing Rolling Upgrade to cancel.")
    return backend.begin(res.body["location"], "rolling_cancelled", id=str(res.id))


@event("rolling_cancelled")
def _rolling_cancelled(backend, id):
    res = backend.get(id)
    rolling = res.state.get("rolling") if res is not None else None
    if rolling and rolling["code"] == "RollingForward":
        rolling["code"] = "Cancelled"


@event("upgraded")
def _upgraded(backend, id, ids):
    res = backend.get(id)
    for iid in ids:
        inst = backend.get(iid)
        if res is not None and inst is not None and inst.type == INSTANCE:
            apply_model(backend, res, inst)


@event("members_deleted")
def _members_deleted(backend, id, ids):
    res = backend.get(id)
    for mid in ids:
        m = backend.get(mid)
        if m is not None:
            vms.remove(backend, m) if m.type == vms.VM else backend.remove(m)
    if res is not None and res.body.get("sku"):
        res.body["sku"]["capacity"] = len(members(backend, res))


def delete_vmss(backend, rid):
    res = backend.get(rid)
    if res is None:
        return None
    res.props["provisioningState"] = "Deleting"
    return backend.begin(res.body["location"], "vmss_deleted", id=str(rid))


@event("vmss_deleted")
def _vmss_deleted(backend, id):
    res = backend.get(id)
    if res is None:
        return
    for vm in vms.members(backend, id) if is_flexible(res) else []:
        vms.remove(backend, vm)
    backend.remove(res)


# --- rendering ----------------------------------------------------------------------------------
def render(backend, res):
    return copy.deepcopy(res.body)


def render_instance(backend, res, inst, expand=None, select=None):
    """A Uniform instance; a Flexible member as the scale set lists it (name, id, instanceId only)."""
    if is_flexible(res):
        zones = inst.body.get("zones") or [None]
        return {"name": inst.id.name, "id": "{}/virtualMachines/{}".format(res.id, inst.id.name),
                "type": INSTANCE, "location": inst.body["location"], "instanceId": inst.id.name, "zones": zones}
    body = copy.deepcopy(inst.body)
    props = body["properties"]
    props["latestModelApplied"] = inst.state.get("model_version") == res.state.get("model_version")
    want_view = expand and "instanceview" in expand.lower()
    if want_view:
        props["instanceView"] = instance_view(backend, res, inst)
    if select and select.lower() == "instanceview":  # wire: test_vmss_disk_encryption_e2e #30
        return {"id": body["id"], "instanceId": body["instanceId"],
                "properties": {"latestModelApplied": props["latestModelApplied"],
                               "instanceView": props.get("instanceView", {}),
                               "provisioningState": props.get("provisioningState"), "hardwareProfile": {}}}
    return body


def instance_view(backend, res, inst):
    n = int(inst.body["instanceId"])
    return power.instance_view(backend, inst, {
        "platformUpdateDomain": n % 5, "platformFaultDomain": n % max(1, res.props.get("platformFaultDomainCount", 1)),
        "placementGroupId": res.props.get("uniqueId")})


def scale_set_view(backend, res):
    counts = {}
    for m in members(backend, res):
        for status in power.statuses(backend, m):
            counts[status["code"]] = counts.get(status["code"], 0) + 1
    return {"virtualMachine": {"statusesSummary": [{"code": c, "count": n} for c, n in sorted(counts.items())]},
            "statuses": [{"code": "ProvisioningState/" + res.props.get("provisioningState", "Succeeded").lower(),
                          "level": "Info", "displayStatus": "Provisioning "
                          + res.props.get("provisioningState", "Succeeded").lower(),
                          "time": iso(backend.now())}],
            "orchestrationServices": [{"serviceName": "AutomaticRepairs", "serviceState": "NotRunning"}]}


def rolling_latest(backend, res):
    rolling = res.state.get("rolling")
    if not rolling:
        raise NotFound("The entity was not found in this Azure location.")
    policy = (res.props.get("upgradePolicy") or {}).get("rollingUpgradePolicy") or {
        "maxBatchInstancePercent": 20, "maxUnhealthyInstancePercent": 20,
        "maxUnhealthyUpgradedInstancePercent": 20, "pauseTimeBetweenBatches": "PT0S"}
    return {"type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades", "location": res.body["location"],
            "properties": {"policy": policy,
                           "runningStatus": {"code": rolling["code"], "startTime": rolling["startTime"],
                                             "lastAction": "Start", "lastActionTime": rolling["startTime"]},
                           "progress": {"successfulInstanceCount": rolling.get("successful", 0),
                                        "failedInstanceCount": rolling.get("failed", 0),
                                        "inProgressInstanceCount": rolling.get("inProgress", 0),
                                        "pendingInstanceCount": rolling.get("pending", 0)}}}


def parse_id(text):
    return ResourceId.parse(norm_id(text))
