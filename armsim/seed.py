# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Create a described landscape through the simulator's own HTTP API (ARM calls, as any client makes them).

The description (JSON, or YAML when PyYAML is available):

    location: eastus
    resourceGroups:
      - name: demo-rg
        capacityReservationGroups:
          - name: demo-crg
            zones: ["1"]                      # omit for a regional group
            reservationType: Block            # Targeted (default) or Block; Block reservations take a schedule
            reservations: [{name: d2s, sku: Standard_D2s_v3, capacity: 4, zone: "1",
                            schedule: {start: "2025-08-01", end: "2025-08-02"}}]
        scaleSets:
          - name: web
            orchestrationMode: Uniform        # or Flexible
            upgradePolicy: Manual             # Automatic | Rolling | Manual
            maxBatchInstancePercent: 20       # Rolling only, with pause: PT0S (pauseTimeBetweenBatches)
            sku: Standard_D2s_v3
            capacity: 3
            zones: ["1"]
            capacityReservationGroup: demo-crg   # name in this resource group, or a full id
            power: {"1": deallocated}         # instance id (or "*") -> running | stopped | deallocated
            ephemeralOsDisk: false
            singlePlacementGroup: false       # also platformFaultDomainCount (1), priority (Regular | Spot)
          - name: flex
            orchestrationMode: Flexible
            profile: false                    # no VM profile: members are VMs that name the scale set
            members: [{name: flex-vm0, sku: Standard_D2s_v3, zone: "1", capacityReservationGroup: demo-crg,
                       power: deallocated, priority: Spot}]   # priority: Regular (default) | Spot
        virtualMachines: [{name: vm0, sku: Standard_D2s_v3, capacityReservationGroup: demo-crg}]
    capacity: {"eastus:Standard_D2s_v3": 0, "eastus/1:Standard_D2s_v3": 2}   # on-demand pools, set at the end

What a seed makes exists already, as if made long ago: its machines and reservations hold their hardware without
drawing on the on-demand pools (rule K1), which are then set as the file's `capacity` says (null: unlimited).
"""
import json

from .client import Client

IMAGE = {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy", "sku": "22_04-lts-gen2",
         "version": "latest"}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArmSimArmSimArmSimArmSimArmSimArmSimArmSim armsim"


def load(path):
    with open(path) as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        import yaml
        return yaml.safe_load(text)
    return json.loads(text)


def run(directory, path):
    return apply(Client(directory), load(path))


def apply(client, spec):
    """Create the landscape `spec` describes through `client` (armsim.client.Client or armsim.inprocess.InProcess);
    the counts of what was made, as JSON."""
    counts = {"resourceGroups": 0, "capacityReservationGroups": 0, "scaleSets": 0, "virtualMachines": 0}
    before = set_capacity(client, {"enforced": False})
    try:
        for rg in spec.get("resourceGroups", []):
            seed_group(client, rg, rg.get("location") or spec.get("location", "eastus"), counts)
    finally:
        set_capacity(client, {"enforced": before["enforced"]})
    if spec.get("capacity") is not None:
        set_capacity(client, {"pools": spec["capacity"]})
    return json.dumps(counts)


def set_capacity(client, body):
    """POST /simulator/capacity; the state before."""
    _, _, before = client.call("GET", "/simulator/capacity", auth=False)
    status, _, answer = client.call("POST", "/simulator/capacity", body, auth=False)
    if status != 200:
        raise ValueError("armsim seed: capacity {}: {}".format(body, answer))
    return before


def seed_group(client, rg, location, counts):
    base = "/subscriptions/{}/resourceGroups/{}".format(client.sub, rg["name"])
    client.request("PUT", base, {"location": location})
    counts["resourceGroups"] += 1
    vnet = "{}/providers/Microsoft.Network/virtualNetworks/{}-vnet".format(base, rg["name"])
    client.request("PUT", vnet, {"location": location, "properties": {
        "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
        "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/24"}}]}})
    subnet = vnet + "/subnets/default"
    for crg in rg.get("capacityReservationGroups", []):
        gid = "{}/providers/Microsoft.Compute/capacityReservationGroups/{}".format(base, crg["name"])
        body = {"location": location}
        if crg.get("zones"):
            body["zones"] = crg["zones"]
        if crg.get("reservationType"):
            body["properties"] = {"reservationType": crg["reservationType"]}
        client.request("PUT", gid, body)
        for r in crg.get("reservations", []):
            rbody = {"location": location, "sku": {"name": r["sku"], "capacity": r["capacity"]}}
            if r.get("zone"):
                rbody["zones"] = [r["zone"]]
            if r.get("schedule"):
                rbody["properties"] = {"scheduleProfile": r["schedule"]}
            client.request("PUT", "{}/capacityReservations/{}".format(gid, r["name"]), rbody)
        counts["capacityReservationGroups"] += 1
    for ss in rg.get("scaleSets", []):
        seed_scale_set(client, base, location, subnet, ss)
        counts["scaleSets"] += 1
    for vm in rg.get("virtualMachines", []):
        seed_vm(client, base, location, subnet, vm)
        counts["virtualMachines"] += 1


def group_id(base, value):
    if not value:
        return None
    return value if value.startswith("/subscriptions/") else \
        "{}/providers/Microsoft.Compute/capacityReservationGroups/{}".format(base, value)


def os_disk(ephemeral):
    disk = {"createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}
    if ephemeral:
        disk.update(caching="ReadOnly", diffDiskSettings={"option": "Local", "placement": "CacheDisk"})
        disk.pop("managedDisk")
    return disk


def vm_profile(name, subnet, ephemeral=False, group=None, flexible=False):
    profile = {
        "osProfile": {"computerNamePrefix": name[:9], "adminUsername": "azureuser",
                      "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                          {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
        "storageProfile": {"imageReference": IMAGE, "osDisk": os_disk(ephemeral)},
        "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {
            "primary": True, "ipConfigurations": [{"name": "ipconfig", "properties": {"subnet": {"id": subnet}}}]}}]},
    }
    if flexible:
        profile["networkProfile"]["networkApiVersion"] = "2020-11-01"
    if group:
        profile["capacityReservation"] = {"capacityReservationGroup": {"id": group}}
    return profile


def seed_scale_set(client, base, location, subnet, ss):
    sid = "{}/providers/Microsoft.Compute/virtualMachineScaleSets/{}".format(base, ss["name"])
    mode = ss.get("orchestrationMode", "Uniform")
    flexible = mode == "Flexible"
    props = {"orchestrationMode": mode, "platformFaultDomainCount": ss.get("platformFaultDomainCount", 1),
             "singlePlacementGroup": ss.get("singlePlacementGroup", False)}
    policy = ss.get("upgradePolicy", "Manual")
    if policy:
        props["upgradePolicy"] = {"mode": policy}
        if policy == "Rolling":
            props["upgradePolicy"]["rollingUpgradePolicy"] = {
                "maxBatchInstancePercent": ss.get("maxBatchInstancePercent", 20), "maxUnhealthyInstancePercent": 20,
                "maxUnhealthyUpgradedInstancePercent": 20, "pauseTimeBetweenBatches": ss.get("pause", "PT0S")}
    body = {"location": location, "tags": dict(ss.get("tags") or {}), "properties": props}
    if ss.get("zones"):
        body["zones"] = ss["zones"]
    if not flexible or ss.get("profile", True):
        props["virtualMachineProfile"] = vm_profile(ss["name"], subnet, ss.get("ephemeralOsDisk"),
                                                    group_id(base, ss.get("capacityReservationGroup")), flexible)
        if ss.get("priority"):
            props["virtualMachineProfile"]["priority"] = ss["priority"]
        body["sku"] = {"name": ss.get("sku", "Standard_D2s_v3"), "tier": "Standard", "capacity": ss.get("capacity", 2)}
        if not flexible:
            props["overprovision"] = False
    client.request("PUT", sid, body)
    for m in ss.get("members", []):
        seed_vm(client, base, location, subnet, m, scale_set=sid)
    power = ss.get("power") or {}
    if power:
        members = client.list(sid + "/virtualMachines")
        for member in members:
            state = power.get(member["instanceId"], power.get("*"))
            if state and state != "running":
                action = {"stopped": "powerOff", "deallocated": "deallocate"}[state]
                client.request("POST", "{}/virtualMachines/{}/{}".format(sid, member["instanceId"], action)
                               if not flexible else "{}/providers/Microsoft.Compute/virtualMachines/{}/{}".format(
                                   base, member["name"], action))


def seed_vm(client, base, location, subnet, vm, scale_set=None):
    vid = "{}/providers/Microsoft.Compute/virtualMachines/{}".format(base, vm["name"])
    profile = vm_profile(vm["name"], subnet, vm.get("ephemeralOsDisk"),
                         group_id(base, vm.get("capacityReservationGroup")), flexible=True)
    props = {"hardwareProfile": {"vmSize": vm.get("sku", "Standard_D2s_v3")},
             "storageProfile": profile["storageProfile"], "networkProfile": profile["networkProfile"],
             "osProfile": dict(profile["osProfile"], computerName=vm["name"][:15])}
    props["osProfile"].pop("computerNamePrefix")
    if "capacityReservation" in profile:
        props["capacityReservation"] = profile["capacityReservation"]
    if scale_set:
        props["virtualMachineScaleSet"] = {"id": scale_set}
    if vm.get("priority"):
        props["priority"] = vm["priority"]
    body = {"location": location, "tags": dict(vm.get("tags") or {}), "properties": props}
    if vm.get("zone"):
        body["zones"] = [vm["zone"]]
    client.request("PUT", vid, body)
    state = vm.get("power", "running")
    if state != "running":
        client.request("POST", "{}/{}".format(vid, {"stopped": "powerOff", "deallocated": "deallocate"}[state]))
