# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Power state of anything that runs: standalone VMs, Flexible members, Uniform instances (rule P1)."""
import re

from ..backend import event, iso
from ..errors import OperationNotAllowed
from . import allocation

DISPLAY = {"running": "VM running", "stopped": "VM stopped", "deallocated": "VM deallocated",
           "starting": "VM starting", "stopping": "VM stopping", "deallocating": "VM deallocating"}

# action -> (state while the operation runs, state when it is done)
ACTIONS = {
    "start": ("starting", "running"),
    "restart": ("starting", "running"),
    "poweroff": ("stopping", "stopped"),
    "deallocate": ("deallocating", "deallocated"),
    "reimage": ("starting", "running"),
    "reimageall": ("starting", "running"),
    "redeploy": ("starting", "running"),
}


# A9, Azure's text (quoted by terraform-provider-azurerm and azure-cli issues; 409 ResourceExistsError in the SDK)
EPHEMERAL_DEALLOCATE_MSG = ("Operation 'deallocate' is not supported for VMs or VM Scale Set instances using an "
                            "ephemeral OS disk.")


def allocated(res):
    """Holds hardware: everything but deallocated (transitions included, as virtualMachinesAllocated does)."""
    return res.state.get("power", "running") != "deallocated"


def ephemeral(res):
    os_disk = (res.props.get("storageProfile") or {}).get("osDisk") or {}
    return (os_disk.get("diffDiskSettings") or {}).get("option", "").lower() == "local"


def check_action(targets, action):
    """Refuse an action some target cannot take, before any target changes (A9)."""
    if action == "deallocate" and any(ephemeral(res) for res in targets):
        raise OperationNotAllowed(EPHEMERAL_DEALLOCATE_MSG, rule="A9")


def begin_action(backend, targets, action):
    """Put each target in the action's transitional state; returns the final state to set (P1)."""
    check_action(targets, action)
    during, done = ACTIONS[action]
    for res in targets:
        if action in ("restart", "reimage", "reimageall", "redeploy") and res.state.get("power") == "deallocated":
            continue  # these leave a deallocated machine deallocated
        res.state["power_before"] = res.state.get("power", "running")  # what a failed action restores (F2)
        res.state["power"] = during
    return done


@event("power_done")
def finish_action(backend, ids, power, action):
    """The action completes: a machine that comes to hold hardware draws it, in the order named, and one that
    cannot stays deallocated while the others go on; the operation then ends Failed (K2, K3, K4). A deallocated
    machine gives back what it drew."""
    errors = []
    for rid in ids:
        res = backend.get(rid)
        if res is None:
            continue
        if res.state.get("power") == "deallocated" and action in ("restart", "reimage", "reimageall", "redeploy"):
            continue
        if power == "deallocated":
            allocation.release(backend, res)
        else:
            error = allocation.allocate(backend, res)
            if error is not None:
                errors.append(error)
                res.state["power"] = "deallocated"
                continue
            if res.props.get("provisioningState") == "Failed" and res.state.get("power_before") == "deallocated":
                res.props["provisioningState"] = "Succeeded"  # a machine made without hardware, now allocated
        res.state["power"] = power
        res.state["power_time"] = backend.now()
    if errors:
        raise errors[0]


def statuses(backend, res):
    power = res.state.get("power", "running")
    prov = res.props.get("provisioningState", "Succeeded")
    when = iso(res.state.get("power_time") or backend.now())
    out = [{"code": "ProvisioningState/" + prov.lower(), "level": "Info",
            "displayStatus": "Provisioning " + prov.lower(), "time": when}]
    out.append({"code": "PowerState/" + power, "level": "Info", "displayStatus": DISPLAY[power]})
    return out


def instance_view(backend, res, extra=None):
    """The instance view body of a machine: agent and OS details only while it holds hardware."""
    view = dict(extra or {})
    if allocated(res):
        view.update(computerName=res.props.get("osProfile", {}).get("computerName"),
                    osName=res.state.get("os_name", "ubuntu"), osVersion="22.04",
                    vmAgent={"vmAgentVersion": "2.11.1.12",
                             "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                           "displayStatus": "Ready", "message": "Guest Agent is running",
                                           "time": iso(backend.now())}],
                             "extensionHandlers": []})
    view["disks"] = [{"name": res.state.get("os_disk", res.id.name + "_OsDisk"),
                      "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                    "displayStatus": "Provisioning succeeded", "time": iso(backend.now())}]}]
    view["hyperVGeneration"] = generation(res)
    view["statuses"] = statuses(backend, res)
    return {k: v for k, v in view.items() if v is not None}


def generation(res):
    """V2 for the images Azure names as generation 2 ('...-gen2', '...-g2'), else V1."""
    sku = ((res.props.get("storageProfile") or {}).get("imageReference") or {}).get("sku") or ""
    return "V2" if re.search(r"gen2|-g2$", sku, re.IGNORECASE) else "V1"
