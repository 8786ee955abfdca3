# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Virtual machines (standalone and Flexible scale-set members) and the network interfaces Azure makes for them."""
import copy

from ..backend import event, iso
from ..errors import InvalidParameter, not_found
from ..ids import ResourceId, norm_id, same_id
from . import allocation, associations, capacity, network, power
from .common import (KEEP, association_body, bump_etag, check_etag, fill_storage, guid, keep_storage, merge,
                     new_resource, os_disk_defaults, os_profile_defaults, requested_association)

VM = "Microsoft.Compute/virtualMachines"
NIC = "Microsoft.Network/networkInterfaces"
SECRETS = ("adminPassword", "customData")
# what a PUT of an existing VM may leave out and still keep
KEPT_ON_PUT = ("provisioningState", "vmId", "timeCreated", "hardwareProfile", "osProfile", "storageProfile",
               "networkProfile", "virtualMachineScaleSet")
# what a member's network interface takes from its scale set's IP configuration
NIC_IP_KEYS = ("subnet", "primary", "privateIPAddressVersion", "loadBalancerBackendAddressPools",
               "applicationGatewayBackendAddressPools", "applicationSecurityGroups")
ACTIONS = ("start", "deallocate", "poweroff", "restart", "reimage", "redeploy")


def get(backend, rid):
    res = backend.get(rid)
    if res is None or res.type != VM:
        raise not_found(rid)
    return res


def put_vm(backend, rid, body, patch=False, if_match=None, if_none_match=None):
    """Create or update a VM (PUT replaces, PATCH merges). Returns (resource, created, operation)."""
    body = copy.deepcopy(body or {})
    existing = backend.get(rid)
    check_etag(existing, if_match, if_none_match)
    if existing is None and patch:
        raise not_found(rid)
    props = body.get("properties") or {}
    wanted = requested_association(props.pop("capacityReservation", None), "properties.capacityReservation")
    if existing is None:
        return _create(backend, rid, body, wanted)
    if patch:
        new_body = merge(copy.deepcopy(existing.body), body)
    else:
        new_body = body
        new_props = new_body.setdefault("properties", {})
        for key in KEPT_ON_PUT:
            if key in existing.props:
                new_props.setdefault(key, copy.deepcopy(existing.props[key]))
        keep_storage(copy.deepcopy(existing.props.get("storageProfile")), new_props.get("storageProfile"))
    strip_secrets(new_body.get("properties", {}))
    for key in ("id", "name", "type", "location", "etag"):
        new_body[key] = existing.body.get(key)
    if "zones" not in body and existing.body.get("zones"):
        new_body["zones"] = existing.body["zones"]
    new_body["properties"].pop("capacityReservation", None)
    group = existing.state.get("crg") if wanted is KEEP or same_id(wanted, existing.state.get("crg")) else wanted
    check_association(backend, existing, group, new_body)
    error = allocation.resize(backend, existing, (new_body["properties"].get("hardwareProfile") or {}).get("vmSize"))
    if error is not None:  # K2, K3: the new size cannot be had; the VM keeps its model and runs on
        return existing, False, allocation.fail_later(backend, existing.body["location"], rid, error,
                                                      provisioning="Succeeded")
    existing.body = new_body
    fill_model(existing)
    existing.state["size"] = existing.props.get("hardwareProfile", {}).get("vmSize")
    set_association(backend, existing, group)
    existing.props["provisioningState"] = "Updating"
    bump_etag(existing)
    op = backend.begin(existing.body["location"], "provisioned_vm", id=str(rid))
    return existing, False, op


def _target(rid, body):
    """What rule A8 checks of a VM."""
    props = body.get("properties") or {}
    return associations.Target(
        machine="Virtual machine '{}'".format(rid.name), location=body.get("location"),
        zones=tuple(body.get("zones") or ()), size=(props.get("hardwareProfile") or {}).get("vmSize"),
        uniform=False, single_placement_group=False, fault_domains=None,
        spot=(props.get("priority") or "").lower() == "spot")


def _create(backend, rid, body, wanted):
    props = body.get("properties") or {}
    location = body.get("location")
    if not location:
        raise InvalidParameter("Required parameter 'location' is missing (null).", target="location")
    size = (props.get("hardwareProfile") or {}).get("vmSize")
    if not size:
        raise InvalidParameter("Required parameter 'hardwareProfile.vmSize' is missing (null).",
                               target="hardwareProfile.vmSize")
    member_of = (props.get("virtualMachineScaleSet") or {}).get("id")
    if member_of:
        _require_flexible(backend, member_of)
    group = None if wanted is KEEP else wanted
    if group:
        associations.check_target(backend, group, _target(rid, body))
    res = new_resource(rid, {k: v for k, v in body.items() if k not in ("id", "name", "type", "location", "etag")},
                       location)
    res.body.pop("properties", None)
    res.body["properties"] = copy.deepcopy(props)
    res.props.update(vmId=guid(), provisioningState="Creating", timeCreated=iso(backend.now()))
    res.props.setdefault("osProfile", {}).setdefault("computerName", rid.name[:15])
    zones = body.get("zones") or []
    res.state.update(power="running", power_time=backend.now(), size=size, zone=zones[0] if zones else None,
                     os_disk="{}_OsDisk_1_{}".format(rid.name, guid().replace("-", "")[:32]))
    fill_model(res)
    strip_secrets(res.props)
    set_association(backend, res, group)
    _make_nics(backend, res)
    network.attach(backend, res)
    bump_etag(res)
    backend.put(res)
    error = allocation.allocate(backend, res)
    if error is not None:  # K3: the VM is made, deallocated, and its creation fails
        res.state["power"] = "deallocated"
        res.state["allocation_error"] = allocation.error_body(error)
        return res, True, allocation.fail_later(backend, location, rid, error)
    op = backend.begin(res.body["location"], "provisioned_vm", id=str(rid))
    return res, True, op


def fill_model(res):
    """The defaults Azure adds to a VM's model."""
    storage = res.props.get("storageProfile")
    os_profile_defaults(res.props.get("osProfile"), storage, vm=True)
    if isinstance(storage, dict):
        os_disk_defaults(storage, (res.props.get("hardwareProfile") or {}).get("vmSize"), vm=True)
        fill_storage(res.id, storage, res.state["os_disk"])


def _require_flexible(backend, vmss_id):
    rid = ResourceId.parse(norm_id(vmss_id))
    vmss = backend.get(rid) if rid else None
    if vmss is None or vmss.props.get("orchestrationMode") != "Flexible":
        raise InvalidParameter("The virtual machine scale set '{}' does not exist or is not in Flexible "
                               "orchestration mode.".format(vmss_id), target="properties.virtualMachineScaleSet")


def strip_secrets(props):
    for key in SECRETS:
        props.get("osProfile", {}).pop(key, None)


def check_association(backend, res, group, body):
    """Rules A8 and A2-A4, before a VM takes `body` and `group`."""
    associations.check_change(backend, res.state.get("crg"), group, _target(res.id, res.body), _target(res.id, body))
    associations.check_move(backend, res, res.state.get("crg"), group)


def change_association(backend, res, group_id):
    """Move a VM to another group (or none), as its own API would."""
    if not same_id(res.state.get("crg"), group_id) and (res.state.get("crg") or group_id):
        check_association(backend, res, group_id, res.body)
        set_association(backend, res, group_id)
        bump_etag(res)


def set_association(backend, res, group_id):
    capacity.associate(backend, res, group_id)
    if group_id:
        res.props["capacityReservation"] = association_body(norm_id(group_id))
    else:
        res.props.pop("capacityReservation", None)


def _make_nics(backend, res):
    """Create the network interfaces a VM's networkInterfaceConfigurations ask for, as Azure does."""
    profile = res.props.setdefault("networkProfile", {})
    configs = profile.get("networkInterfaceConfigurations") or []
    if not configs or profile.get("networkInterfaces"):
        return
    nics = []
    for config in configs:
        props = config.get("properties") or {}
        nic_id = ResourceId(res.id.sub, res.id.group, "Microsoft.Network", ["networkInterfaces"],
                            ["{}-{}".format(res.id.name, config.get("name", "nic"))])
        ip_configs = [{"name": ipc.get("name", "ipconfig1"),
                       "properties": {k: v for k, v in (ipc.get("properties") or {}).items() if k in NIC_IP_KEYS}}
                      for ipc in props.get("ipConfigurations") or [{}]]
        body = {"location": res.body["location"], "properties": {
            "ipConfigurations": ip_configs, "enableAcceleratedNetworking": props.get("enableAcceleratedNetworking",
                                                                                     False)}}
        if props.get("networkSecurityGroup"):
            body["properties"]["networkSecurityGroup"] = props["networkSecurityGroup"]
        network.put(backend, nic_id, body)
        nics.append({"id": str(nic_id), "properties": {"primary": props.get("primary", True),
                                                       "deleteOption": props.get("deleteOption", "Delete")}})
    profile["networkInterfaces"] = nics


@event("provisioned_vm")
def _provisioned_vm(backend, id):
    res = backend.get(id)
    if res is not None:
        res.props["provisioningState"] = "Succeeded"


def delete_vm(backend, rid):
    res = backend.get(rid)
    if res is None:
        return None
    res.props["provisioningState"] = "Deleting"
    return backend.begin(res.body["location"], "deleted_vm", id=str(rid))


@event("deleted_vm")
def _deleted_vm(backend, id):
    res = backend.get(id)
    if res is not None:
        remove(backend, res)


def remove(backend, res):
    """Remove a VM and the network interfaces that go with it."""
    capacity.release(backend, res)
    allocation.release(backend, res)
    for nic in res.props.get("networkProfile", {}).get("networkInterfaces", []):
        if (nic.get("properties") or {}).get("deleteOption") == "Delete":
            other = backend.get(nic["id"])
            if other is not None:
                network.delete(backend, other)
    backend.remove(res)


def action(backend, targets, name):
    """Start a power action on VMs; one operation for all of them."""
    if not targets:
        return None
    done = power.begin_action(backend, targets, name)
    return backend.begin(targets[0].body["location"], "power_done", ids=[str(t.id) for t in targets],
                         power=done, action=name)


def render(backend, res, expand=None):
    body = copy.deepcopy(res.body)
    if res.state.get("power") == "deallocated":
        # a deallocated VM's model leaves out its OS disk's size and storage type
        # (wire: test_vm_vmss_update_ultra_ssd_enabled #19)
        os_disk = body["properties"].get("storageProfile", {}).get("osDisk") or {}
        os_disk.pop("diskSizeGB", None)
        (os_disk.get("managedDisk") or {}).pop("storageAccountType", None)
    if expand and "instanceview" in expand.lower():
        body["properties"]["instanceView"] = instance_view(backend, res)
    return body


def instance_view(backend, res):
    """Update and fault domains only for a VM in an availability set: a standalone VM's view has none
    (wire: test_vm_stop_start, test_vm_vmss_update_ultra_ssd_enabled)."""
    extra = {"isVMInStandbyPool": False}
    if res.props.get("availabilitySet"):
        extra.update(platformUpdateDomain=0, platformFaultDomain=0)
    return power.instance_view(backend, res, extra)


def members(backend, vmss_id):
    """VMs that belong to a Flexible scale set, by name."""
    rid = ResourceId.parse(vmss_id)
    return [r for r in backend.of_type(VM, sub=rid.sub)
            if same_id((r.props.get("virtualMachineScaleSet") or {}).get("id"), vmss_id)]


def list_vms(backend, sub, group=None, filter_=None):
    items = backend.of_type(VM, sub=sub, group=group)
    if filter_:
        vmss_id = _filter_scale_set(filter_)
        items = [r for r in items if same_id((r.props.get("virtualMachineScaleSet") or {}).get("id"), vmss_id)]
    return items


def _filter_scale_set(text):
    """The scale-set id in `'virtualMachineScaleSet/id' eq '<id>'` (W8), the only filter Compute accepts."""
    import re
    m = re.match(r"^\s*'?virtualMachineScaleSet/id'?\s+eq\s+'([^']+)'\s*$", text, re.IGNORECASE)
    if not m:
        raise InvalidParameter("The $filter '{}' is not supported. Supported: 'virtualMachineScaleSet/id' eq "
                               "'<scale set id>'.".format(text), target="$filter", rule="W8")
    return m.group(1)


def create_member(backend, vmss, name, profile, zone):
    """A Flexible scale set's VM made from its profile (like Azure's `{vmss}_{8 hex}` members)."""
    rid = ResourceId(vmss.id.sub, vmss.id.group, "Microsoft.Compute", ["virtualMachines"], [name])
    props = {k: copy.deepcopy(v) for k, v in profile.items()
             if k in ("storageProfile", "osProfile", "networkProfile", "diagnosticsProfile", "securityProfile",
                      "priority", "evictionPolicy", "billingProfile", "licenseType", "userData",
                      "additionalCapabilities")}
    props["hardwareProfile"] = {"vmSize": vmss.body["sku"]["name"]}
    props["virtualMachineScaleSet"] = {"id": str(vmss.id)}
    network = props.get("networkProfile") or {}
    props["networkProfile"] = {
        "networkInterfaceConfigurations": copy.deepcopy(network.get("networkInterfaceConfigurations") or []),
        "networkApiVersion": network.get("networkApiVersion", "2020-11-01")}
    prefix = (profile.get("osProfile") or {}).get("computerNamePrefix") or vmss.id.name[:9]
    props.setdefault("osProfile", {})
    props["osProfile"] = {k: v for k, v in props["osProfile"].items() if k != "computerNamePrefix"}
    props["osProfile"]["computerName"] = "{}{}".format(prefix[:9], guid().replace("-", "")[:6])
    body = {"location": vmss.body["location"], "properties": props,
            "tags": {"VirtualMachineProfileTimeCreated": iso(backend.now())}}
    if zone:
        body["zones"] = [zone]
    group = ((profile.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
    res, _, _ = _create(backend, rid, body, group or None)
    # a member's model names the network interfaces made for it, not the configurations they came from
    # (wire: test_vmss_windows_patch_mode #14)
    for key in ("networkInterfaceConfigurations", "networkApiVersion"):
        res.props["networkProfile"].pop(key, None)
    res.props["provisioningState"] = "Failed" if res.state.get("allocation_error") else "Succeeded"
    return res
