# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Helpers shared by the resource families' models."""
import re
import uuid

from ..backend import Resource, iso
from ..errors import (GROUP_NOT_FOUND_MSG, InvalidParameter, LinkedInvalidPropertyId, PreconditionFailed,
                      ResourceGroupNotFound)
from ..ids import ResourceId, norm_id

KEEP = object()  # "the request does not say": keep what is there


def merge(target, patch):
    """Compute's PATCH: objects merge, lists and scalars replace, null means "not given" (keeps the value)."""
    if not isinstance(patch, dict):
        return target if patch is None else patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is not None:
            target[key] = merge(target.get(key), value)
    return target


def normalize_location(location):
    """ARM echoes locations lower-cased without spaces ("West Europe" -> "westeurope")."""
    return (location or "").replace(" ", "").lower()


def require_group(backend, rid):
    """ARM answers anything under a resource group that does not exist with ResourceGroupNotFound (W11)."""
    group = backend.get(rid.group_id)
    if group is None:
        raise ResourceGroupNotFound(GROUP_NOT_FOUND_MSG.format(group=rid.group), rule="W11")
    return group


# W12
PRECONDITION_MSG = "The specified precondition '{header} = {value}' failed: the resource's etag is {etag}."


def check_etag(existing, if_match=None, if_none_match=None):
    """Conditional writes (W12): If-Match must name the current etag (or be * for any existing resource);
    If-None-Match: * only creates."""
    etag = existing.body.get("etag") if existing is not None else None
    if if_match and (existing is None or (if_match.strip() != "*" and _bare(if_match) != _bare(etag))):
        raise PreconditionFailed(PRECONDITION_MSG.format(header="If-Match", value=if_match, etag=etag or "none"),
                                 rule="W12")
    if if_none_match and if_none_match.strip() == "*" and existing is not None:
        raise PreconditionFailed(PRECONDITION_MSG.format(header="If-None-Match", value=if_none_match, etag=etag),
                                 rule="W12")


def _bare(etag):
    """An etag without the weak prefix and quotes: W/"3", "3" and 3 are the same."""
    text = (etag or "").strip()
    if text.startswith("W/"):
        text = text[2:]
    return text.strip('"\\')


# A1 (azure-cli#19659)
INVALID_GROUP_ID_MSG = ("Property id '{id}' at path '{path}.capacityReservationGroup.id' is invalid. Expect fully "
                        "qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or "
                        "'/providers/{{resourceProviderNamespace}}/'.")


def requested_association(capacity_reservation, path):
    """What a request body says about an association (rule A1).

    Returns KEEP when it says nothing (`capacityReservation` or `capacityReservationGroup` missing or
    null), None when it clears (`capacityReservationGroup: {}` or `{"id": null}`), else the group id.
    """
    if not isinstance(capacity_reservation, dict):
        return KEEP
    group = capacity_reservation.get("capacityReservationGroup")
    if group is None or not isinstance(group, dict):
        return KEEP
    gid = group.get("id")
    if gid is None:
        return None
    rid = ResourceId.parse(norm_id(gid)) if isinstance(gid, str) and gid.strip() else None
    if rid is None or rid.full_type.lower() != "microsoft.compute/capacityreservationgroups":
        raise LinkedInvalidPropertyId(INVALID_GROUP_ID_MSG.format(id=gid, path=path), rule="A1")
    return norm_id(gid)


def association_body(group_id):
    return {"capacityReservationGroup": {"id": group_id}} if group_id else None


def new_resource(rid, body, location, state=None):
    """A resource with the fields ARM manages set: id, name, type, location."""
    body = dict(body)
    body.update(id=str(rid), name=rid.name, type=rid.full_type, location=normalize_location(location))
    return Resource(rid, body, state)


def stamp_created(backend, res):
    res.props.setdefault("timeCreated", iso(backend.now()))


def bump_etag(res):
    n = int(res.state.get("etag", 0)) + 1
    res.state["etag"] = n
    res.body["etag"] = '"{}"'.format(n)


def guid():
    return str(uuid.uuid4())


def require(value, message, rule=None):
    if not value:
        raise InvalidParameter(message, rule=rule)
    return value


# --- what Azure fills into a machine's model (wire: the VM, instance and scale-set GETs of azure-recordings) ---
LATEST_IMAGE_VERSION = "1.0.0"  # "latest" of a marketplace image that is not in armsim's image table (catalog.py)


def os_type(storage):
    """Windows for the Windows images (publisher or offer names Windows), else Linux."""
    image = (storage or {}).get("imageReference") or {}
    named = "{} {}".format(image.get("publisher") or "", image.get("offer") or "").lower()
    return "Windows" if "windows" in named else "Linux"


def os_profile_defaults(os_profile, storage=None, vm=False):
    """What Azure adds to an OS profile (wire: test_vm_vmss_update_ultra_ssd_enabled #13 for a VM, #44 for a scale
    set; Windows: VirtualMachine_Create_WithCapacityReservation). Call before the secrets are removed: a Linux
    profile given a password allows password sign-in."""
    if not isinstance(os_profile, dict):
        return
    if os_type(storage) == "Windows":
        windows = os_profile.setdefault("windowsConfiguration", {})
        windows.setdefault("provisionVMAgent", True)
        windows.setdefault("enableAutomaticUpdates", True)
    else:
        linux = os_profile.setdefault("linuxConfiguration", {})
        linux.setdefault("disablePasswordAuthentication", not os_profile.get("adminPassword"))
        linux.setdefault("provisionVMAgent", True)
        if vm:
            linux.setdefault("patchSettings", {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"})
    os_profile.setdefault("secrets", [])
    os_profile.setdefault("allowExtensionOperations", True)
    os_profile.setdefault("requireGuestProvisionSignal", True)


def os_disk_defaults(storage, size, vm=False):
    """What Azure adds to an OS disk made from an image (wire: test_vm_vmss_update_ultra_ssd_enabled #13, #44):
    its OS type, caching ReadWrite, the image's size (30 GB for Linux images, 127 for Windows), Premium_LRS when
    the size takes premium storage (an 's' size, e.g. Standard_D2s_v3, Standard_DS1_v2) else Standard_LRS, and
    for a VM deleteOption Detach."""
    os_disk = (storage or {}).get("osDisk")
    if not isinstance(os_disk, dict):
        return
    kind = os_disk.setdefault("osType", os_type(storage))
    ephemeral = bool(os_disk.get("diffDiskSettings"))
    os_disk.setdefault("caching", "ReadOnly" if ephemeral else "ReadWrite")
    if not ephemeral:
        managed = os_disk.get("managedDisk")
        if not isinstance(managed, dict):
            managed = os_disk["managedDisk"] = {}
        if not managed.get("storageAccountType"):
            managed["storageAccountType"] = "Premium_LRS" if _premium(size) else "Standard_LRS"
    if os_disk.get("diskSizeGB") is None:
        os_disk["diskSizeGB"] = 127 if kind == "Windows" else 30
    if vm:
        os_disk.setdefault("deleteOption", "Detach")


def _premium(size):
    """Sizes that take premium storage carry an 's': DS1_v2, D2s_v3, E4as_v5, ..."""
    return bool(re.match(r"^Standard_[A-Z]+S\d|^Standard_[A-Z]+\d+[a-z]*s", size or ""))


def fill_storage(rid, storage, disk_name):
    """A machine's storage profile as Azure answers it: the OS disk's name and managed disk id, the image's
    exact version, and the data disk list (empty when none)."""
    image = storage.get("imageReference") or {}
    if image.get("publisher"):
        from .catalog import latest_version
        latest = latest_version(image["publisher"], image.get("offer") or "", image.get("sku") or "")
        image.setdefault("exactVersion", image.get("version") if image.get("version") != "latest"
                         else latest or LATEST_IMAGE_VERSION)
    os_disk = storage.get("osDisk")
    if isinstance(os_disk, dict):
        os_disk.setdefault("name", disk_name)
        if isinstance(os_disk.get("managedDisk"), dict) and not os_disk.get("diffDiskSettings"):
            os_disk["managedDisk"].setdefault("id", "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/"
                                                    "disks/{}".format(rid.sub, rid.group, os_disk["name"]))
    storage.setdefault("dataDisks", [])


def keep_storage(old, new):
    """A PUT that leaves out the image or the OS disk's size or storage type keeps them: they are facts of the
    disk (wire: `vm update` and `vmss update` PUT without imageReference, test_vm_vmss_update_ultra_ssd_enabled)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    if old.get("imageReference"):
        new.setdefault("imageReference", old["imageReference"])
    old_disk, new_disk = old.get("osDisk") or {}, new.get("osDisk")
    if isinstance(new_disk, dict):
        if "diskSizeGB" in old_disk:
            new_disk.setdefault("diskSizeGB", old_disk["diskSizeGB"])
        old_type = (old_disk.get("managedDisk") or {}).get("storageAccountType")
        if old_type and isinstance(new_disk.get("managedDisk"), dict):
            new_disk["managedDisk"].setdefault("storageAccountType", old_type)
