# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Virtual machine scale sets, Uniform and Flexible, their Uniform instances, and upgrades (A5-A7)."""
import copy
import json
import re

from .. import rules
from ..backend import Next, event, iso
from ..errors import ArmError, InvalidParameter, NotFound, OperationNotAllowed, PropertyChangeNotAllowed, not_found
from ..ids import norm_id, same_id
from . import allocation, associations, capacity, power, vms
from .common import (KEEP, association_body, bump_etag, check_etag, fill_storage, guid, keep_storage, merge,
                     new_resource, os_disk_defaults, os_profile_defaults, requested_association)

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
def put_vmss(backend, rid, body, patch=False, if_match=None, if_none_match=None):
    """Create or update a scale set (PUT replaces, PATCH merges). Returns (resource, created, operation)."""
    body = copy.deepcopy(body or {})
    existing = backend.get(rid)
    check_etag(existing, if_match, if_none_match)
    if existing is None and patch:
        raise not_found(rid)
    profile_in = (body.get("properties") or {}).get("virtualMachineProfile") or {}
    wanted = requested_association(profile_in.pop("capacityReservation", None), PROFILE_PATH)
    if patch and rules.reading(backend.options, "A10") == "ignored":
        wanted = KEEP  # rule A10: not in the PATCH model, silently dropped
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
    old_group = model_group(existing)
    group = old_group if wanted is KEEP or same_id(wanted, old_group) else wanted  # W5: same id, same model
    associations.check_change(backend, old_group, group, _target(existing, existing.body), _target(existing, new_body))
    if not is_flexible(existing):
        associations.check_model_change(backend, existing, old_group, group, instances(backend, existing))
    old_time = (existing.props.get("virtualMachineProfile") or {}).get("timeCreated")
    retry = existing.state.pop("failed_update", None) or {}  # rule F2: this write retries what an update left undone
    existing.body = new_body
    set_model_group(existing, group)
    _fill_model(existing)
    changed = _model_key(existing) != old_profile
    if changed:
        existing.state["model_version"] = existing.state.get("model_version", 1) + 1
    _stamp_profile(backend, existing, None if changed else old_time)
    existing.props["provisioningState"] = "Updating"
    bump_etag(existing)
    group_changed = not same_id(group, old_group) and bool(group or old_group)
    op = backend.begin(existing.body["location"], "vmss_updated", id=str(rid),
                       upgrade=bool(changed or retry.get("upgrade")),
                       group_changed=bool(group_changed or retry.get("group_changed")))
    return existing, False, op


def _target(res, body):
    """What rule A8 checks of a scale set."""
    props = body.get("properties") or {}
    profile = props.get("virtualMachineProfile") or {}
    return associations.Target(
        machine="Scale set '{}'".format(res.id.name), location=body.get("location"),
        zones=tuple(body.get("zones") or ()), size=(body.get("sku") or {}).get("name"),
        uniform=props.get("orchestrationMode") != "Flexible",
        single_placement_group=bool(props.get("singlePlacementGroup")),
        fault_domains=props.get("platformFaultDomainCount"),
        spot=(profile.get("priority") or "").lower() == "spot")


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
    group = None if wanted is KEEP or not profile else wanted
    if group:
        associations.check_target(backend, group, _target(res, res.body))
    res.props.update(provisioningState="Creating", uniqueId=guid(), timeCreated=iso(backend.now()))
    res.state.update(model_version=1, next_instance=0)
    set_model_group(res, group)
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
    os_profile_defaults(profile.get("osProfile"), profile.get("storageProfile"))
    os_disk_defaults(profile.get("storageProfile"), (res.body.get("sku") or {}).get("name"))
    vms.strip_secrets(profile)
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
def _vmss_updated(backend, id, upgrade, group_changed=False):
    res = backend.get(id)
    if res is None:
        return
    errors = reconcile(backend, res)
    if upgrade:
        follow_policy(backend, res, group_changed)
    res.props["provisioningState"] = "Failed" if errors else "Succeeded"
    if errors:  # K3: members that could not be allocated were made deallocated
        raise allocation.ERRORS[errors[0]["code"]](errors[0]["message"])


def upgrade_mode(res):
    return (res.props.get("upgradePolicy") or {}).get("mode", "Manual")


def follow_policy(backend, res, group_changed):
    """What a model change does to existing members: Uniform instances follow the upgrade policy (A6); Flexible
    members keep their own model (A7), unless A7's opposite reading applies a new association to them."""
    mode = upgrade_mode(res)
    if is_flexible(res):
        if group_changed and mode in ("Automatic", "Rolling") and rules.opposite(backend.options, "A7"):
            for vm in members(backend, res):
                try:
                    vms.change_association(backend, vm, model_group(res))
                except ArmError:
                    pass  # this member may not move now: it keeps its association
        return
    if mode == "Automatic":
        for inst in instances(backend, res):
            if protected(inst):
                continue  # rule A6p
            try:
                upgrade(backend, res, inst)
            except ArmError:
                pass  # refused at instance level (rule A5i's opposite reading): stays on its model
    elif mode == "Rolling" and rules.reading(backend.options, "A6r") == "rolls":
        stale = [str(i.id) for i in instances(backend, res) if not latest(res, i) and not protected(i)]  # A6p
        start_rolling(backend, res, stale)


def upgrade(backend, res, inst):
    """Bring one instance to the latest model, within the association rules at instance level (A5, A5s)."""
    associations.check_move(backend, inst, inst.state.get("crg"), model_group(res), associations.INSTANCE_RULES)
    apply_model(backend, res, inst)


def protected(inst):
    """protectionPolicy.protectFromScaleSetActions: no upgrade policy reaches the instance (rule A6p)."""
    return bool((inst.props.get("protectionPolicy") or {}).get("protectFromScaleSetActions"))


def update_instance(backend, res, inst, body):
    """PUT/PATCH of a Uniform instance: only its protectionPolicy is modelled (rule A6p); the rest is ignored."""
    if is_flexible(res):
        raise OperationNotAllowed("Flexible members are updated through their virtual machine.")
    policy = ((body or {}).get("properties") or {}).get("protectionPolicy")
    if policy is not None:
        inst.props["protectionPolicy"] = {"protectFromScaleIn": bool(policy.get("protectFromScaleIn")),
                                          "protectFromScaleSetActions": bool(policy.get("protectFromScaleSetActions"))}
        bump_etag(inst)
    return backend.begin(res.body["location"], "instance_updated", id=str(inst.id))


@event("instance_updated")
def _instance_updated(backend, id):
    return None


def arm_rolling_end(res, code, after_batches=0):
    """Test knob (rule A6f): the scale set's next rolling upgrade (or the one in progress) ends `code` once
    `after_batches` batches are done; the instances not yet upgraded keep their model."""
    if code not in ("Faulted", "Cancelled"):
        raise InvalidParameter("end must be Faulted or Cancelled, not {!r}.".format(code), target="end")
    res.state["rolling_end"] = {"code": code, "after": int(after_batches)}


def arm_scale_out(res, count):
    """Test knob (rule A6a): the scale set's next action (POST deallocate, start, ...) first adds `count` running
    instances, as an autoscale scale-out that lands just before it would."""
    if is_flexible(res) or int(count) < 1:
        raise InvalidParameter("A scale-out can be armed on a Uniform scale set, with count >= 1.", target="count")
    res.state["scale_out"] = int(count)


def _scale_out_armed(backend, res):
    count = res.state.pop("scale_out", 0)
    if count:
        res.body["sku"]["capacity"] = len(members(backend, res)) + count
        reconcile(backend, res)


def latest(res, inst):
    return inst.state.get("model_version") == res.state.get("model_version")


# --- rolling upgrades (A6): batches and pauses as events ---------------------------------------------
DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>[\d.]+)S)?)?$", re.I)


def pause_seconds(backend, res):
    """pauseTimeBetweenBatches (an ISO 8601 duration such as PT5S or PT1M30S) times --pause-scale."""
    text = rolling_policy(res).get("pauseTimeBetweenBatches") or "PT0S"
    m = DURATION.match(text.strip())
    if not m:
        return 0.0
    parts = {k: float(v or 0) for k, v in m.groupdict().items()}
    seconds = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    return seconds * backend.options.pause_scale


def rolling_policy(res):
    return (res.props.get("upgradePolicy") or {}).get("rollingUpgradePolicy") or dict(ROLLING_DEFAULT)


def batch_size(backend, res):
    """maxBatchInstancePercent of all the instances, at least one."""
    percent = int(rolling_policy(res).get("maxBatchInstancePercent") or 20)
    return max(1, len(instances(backend, res)) * percent // 100)


def start_rolling(backend, res, ids, model=True, op_location=None):
    """Upgrade `ids` in batches. A new rolling upgrade supersedes the one in progress. With `op_location` the
    upgrade is the long-running operation returned (osRollingUpgrade); otherwise it runs on its own."""
    run = res.state.get("rolling_run", 0) + 1
    now = iso(backend.now())
    res.state["rolling_run"] = run
    res.state["rolling"] = {"code": "RollingForward", "startTime": now, "lastActionTime": now, "pending": ids,
                            "inProgress": [], "successful": 0, "failed": 0, "model": model}
    if op_location:
        return backend.begin(op_location, "rolling_batch", id=str(res.id), run=run)
    backend.schedule(0, "rolling_batch", id=str(res.id), run=run)
    return None


def _rolling(backend, id, run):
    """The scale set and its rolling upgrade `run`, while that upgrade is the one rolling forward."""
    res = backend.get(id)
    rolling = res.state.get("rolling") if res is not None else None
    if rolling and rolling["code"] == "RollingForward" and res.state.get("rolling_run") == run:
        return res, rolling
    return None, None


@event("rolling_batch")
def _rolling_batch(backend, id, run):
    res, rolling = _rolling(backend, id, run)
    if res is None:
        return None
    end = res.state.get("rolling_end")
    if end and rolling.get("batches", 0) >= end["after"]:  # rule A6f
        res.state.pop("rolling_end")
        rolling["code"] = end["code"]
        if end["code"] == "Faulted":
            rolling["failed"] += len(rolling["pending"][:batch_size(backend, res)])
            rolling["error"] = {"code": "RollingUpgradeFaulted", "message": "The rolling upgrade was stopped because "
                                "too many instances failed their upgrade (armsim rule A6f)."}
        rolling["lastActionTime"] = iso(backend.now())
        return None
    size = batch_size(backend, res)
    rolling["inProgress"], rolling["pending"] = rolling["pending"][:size], rolling["pending"][size:]
    return Next(backend.options.lro_seconds, "rolling_batch_done", id=id, run=run)


@event("rolling_batch_done")
def _rolling_batch_done(backend, id, run):
    res, rolling = _rolling(backend, id, run)
    if res is None:
        return None
    for iid in rolling["inProgress"]:
        inst = backend.get(iid)
        if inst is None:
            continue
        try:
            if rolling["model"]:
                upgrade(backend, res, inst)
            rolling["successful"] += 1
        except ArmError as e:
            rolling["failed"] += 1
            rolling["error"] = e.body()["error"]
    rolling.update(inProgress=[], lastActionTime=iso(backend.now()), batches=rolling.get("batches", 0) + 1)
    if rolling["pending"]:
        return Next(pause_seconds(backend, res), "rolling_batch", id=id, run=run)
    rolling["code"] = "Faulted" if rolling["failed"] else "Completed"
    return None


def reconcile(backend, res):
    """Create or remove members so that their number matches sku.capacity. Returns the allocation errors of the
    members made (K3: they are made deallocated, provisioningState Failed)."""
    sku = res.body.get("sku")
    profile = res.props.get("virtualMachineProfile")
    if not sku or not profile:
        return []
    capacity = int(sku.get("capacity") or 0)
    current = members(backend, res)
    for extra in current[capacity:]:
        remove_member(backend, extra)
    del current[capacity:]
    errors = []
    while len(current) < capacity:
        current.append(_new_member(backend, res))
        error = current[-1].state.pop("allocation_error", None)
        if error:
            errors.append(error)
    return errors


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
    backend.put(inst)
    error = allocation.allocate(backend, inst)
    if error is not None:
        inst.state.update(power="deallocated", allocation_error=allocation.error_body(error))
        inst.props["provisioningState"] = "Failed"
    return inst


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
    inst.state.update(model_version=res.state.get("model_version", 1), size=res.body["sku"]["name"])
    capacity.associate(backend, inst, model_group(res))


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
    everyone = members(backend, res)
    if not instance_ids or "*" in instance_ids:
        return everyone
    by_id = {_instance_id(res, m).lower(): m for m in everyone}  # one pass, not one per named instance
    missing = next((str(i) for i in instance_ids if str(i).lower() not in by_id), None)
    if missing is not None:
        member(backend, res, missing)  # raises its NotFound
    return [by_id[str(i).lower()] for i in instance_ids]


# --- actions ------------------------------------------------------------------------------------
def action(backend, res, name, instance_ids):
    name = name.lower()
    _scale_out_armed(backend, res)
    chosen = targets(backend, res, instance_ids)
    if name == "manualupgrade":
        if not instance_ids:
            raise InvalidParameter("Required parameter 'instanceIds' is missing (null).", target="instanceIds")
        chosen = [i for i in chosen if i.type == INSTANCE]
        for inst in chosen:  # refuse before any instance changes
            associations.check_move(backend, inst, inst.state.get("crg"), model_group(res),
                                    associations.INSTANCE_RULES)
        return backend.begin(res.body["location"], "upgraded", id=str(res.id), ids=[str(i.id) for i in chosen])
    if name == "delete":
        if not instance_ids:
            raise InvalidParameter("Required parameter 'instanceIds' is missing (null).", target="instanceIds")
        return backend.begin(res.body["location"], "members_deleted", id=str(res.id), ids=[str(i.id) for i in chosen])
    if name == "osrollingupgrade":  # the OS image is not modelled: batches that change nothing
        return start_rolling(backend, res, [str(i.id) for i in chosen], model=False,
                             op_location=res.body["location"])
    if not instance_ids or "*" in instance_ids:  # an action on the whole scale set skips protected instances (A6p)
        chosen = [m for m in chosen if not protected(m)]
    if not chosen:
        return None
    if name == "start":
        for inst in chosen:
            if _model_on_start(backend, res, inst):
                upgrade(backend, res, inst)  # deallocated: the association moves freely (A2)
    done = power.begin_action(backend, chosen, name)
    return backend.begin(res.body["location"], "power_done", ids=[str(t.id) for t in chosen], power=done, action=name)


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


def _model_on_start(backend, res, inst):
    """Whether starting this instance brings it to the latest model: A6s's applies-model reading, or a manualupgrade
    that A6d's on-start reading left pending."""
    pending = inst.state.pop("upgrade_on_start", False)
    return (inst.type == INSTANCE and not power.allocated(inst) and not latest(res, inst)
            and (pending or rules.reading(backend.options, "A6s") == "applies-model"))


@event("upgraded")
def _upgraded(backend, id, ids):
    res = backend.get(id)
    for iid in ids:
        inst = backend.get(iid)
        if res is None or inst is None:
            continue
        if not power.allocated(inst) and rules.reading(backend.options, "A6d") == "on-start":
            inst.state["upgrade_on_start"] = True  # rule A6d: taken when it next starts
        else:
            upgrade(backend, res, inst)


@event("members_deleted")
def _members_deleted(backend, id, ids):
    res = backend.get(id)
    for mid in ids:
        m = backend.get(mid)
        if m is not None:
            remove_member(backend, m)
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
    for m in members(backend, res):
        remove_member(backend, m)
    backend.remove(res)


def remove_member(backend, m):
    if m.type == vms.VM:
        vms.remove(backend, m)
    else:
        capacity.release(backend, m)
        allocation.release(backend, m)
        backend.remove(m)


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
    props["latestModelApplied"] = latest(res, inst)
    if inst.state.get("crg") and rules.reading(backend.options, "A11") == "shown":
        props["capacityReservation"] = association_body(inst.state["crg"])
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
    """rollingUpgrades/latest, as Azure answers it (wire: test_vmss_rolling_upgrade #87: no id or name)."""
    rolling = res.state.get("rolling")
    if not rolling:
        raise NotFound("The entity was not found in this Azure location.")
    props = {"policy": rolling_policy(res),
             "runningStatus": {"code": rolling["code"], "startTime": rolling["startTime"], "lastAction": "Start",
                               "lastActionTime": rolling["lastActionTime"]},
             "progress": {"successfulInstanceCount": rolling["successful"],
                          "failedInstanceCount": rolling["failed"],
                          "inProgressInstanceCount": len(rolling["inProgress"]),
                          "pendingInstanceCount": len(rolling["pending"])}}
    if rolling["code"] == "Faulted" and rolling.get("error"):
        props["error"] = rolling["error"]
    return {"type": "Microsoft.Compute/virtualMachineScaleSets/rollingUpgrades", "location": res.body["location"],
            "properties": props}
