"""The benchmark's scale sets: seeded fast through armsim's ARM API, and their end state read back directly.

Every scale set is regional, on a regional group `g` whose one reservation covers all its instances, with
every instance running: Uniform with upgrade policy Manual, Flexible without a VM profile (its members are
VMs that name it). armsim's own `seed` waits for each write in turn; here the member VMs are created with
several requests in flight, and the simulator is then left to finish their operations.
"""
from concurrent.futures import ThreadPoolExecutor

from armsim.client import ArmError
from armsim.seed import IMAGE, SSH_KEY

SIZE = "Standard_D2s_v3"
LOCATION = "eastus"
GROUP = "g"
SCALE_SET = "ss"
UNIFORM, FLEXIBLE = "Uniform", "Flexible"
SEED_THREADS = 8


class Landscape:
    def __init__(self, sim, mode, n):
        self.sim, self.mode, self.n = sim, mode, n
        self.rg = "bench-{}-{}".format("u" if mode == UNIFORM else "f", n)
        self.base = "/subscriptions/{}/resourceGroups/{}".format(sim.sub, self.rg)
        self.group_id = self.base + "/providers/Microsoft.Compute/capacityReservationGroups/" + GROUP
        self.vmss_id = self.base + "/providers/Microsoft.Compute/virtualMachineScaleSets/" + SCALE_SET
        self.members = []  # Flexible: member VM names

    @property
    def flexible(self):
        return self.mode == FLEXIBLE

    def seed(self):
        c = _Unthrottled(self.sim)
        c.request("PUT", self.base, {"location": LOCATION})
        vnet = self.base + "/providers/Microsoft.Network/virtualNetworks/vnet"
        c.request("PUT", vnet, {"location": LOCATION, "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/8"]},
            "subnets": [{"name": "default", "properties": {"addressPrefix": "10.0.0.0/16"}}]}})
        subnet = vnet + "/subnets/default"
        c.request("PUT", self.group_id, {"location": LOCATION})
        c.request("PUT", self.group_id + "/capacityReservations/r",
                  {"location": LOCATION, "sku": {"name": SIZE, "capacity": self.n}})
        if self.flexible:
            c.request("PUT", self.vmss_id, {"location": LOCATION, "properties": {
                "orchestrationMode": FLEXIBLE, "platformFaultDomainCount": 1, "singlePlacementGroup": False}})
            self.members = ["{}-vm{:04d}".format(SCALE_SET, i) for i in range(self.n)]
            with ThreadPoolExecutor(SEED_THREADS) as pool:
                list(pool.map(lambda name: self._put_member(name, subnet), self.members))
        else:
            c.request("PUT", self.vmss_id, {
                "location": LOCATION, "sku": {"name": SIZE, "tier": "Standard", "capacity": self.n},
                "properties": {"orchestrationMode": UNIFORM, "upgradePolicy": {"mode": "Manual"},
                               "singlePlacementGroup": False, "platformFaultDomainCount": 1, "overprovision": False,
                               "virtualMachineProfile": _profile(subnet, self.group_id)}})
        self.sim.settle()

    def _put_member(self, name, subnet):
        profile = _profile(subnet)
        os_profile = dict(profile["osProfile"], computerName=name[:15])
        os_profile.pop("computerNamePrefix")
        body = {"location": LOCATION, "properties": {
            "hardwareProfile": {"vmSize": SIZE}, "storageProfile": profile["storageProfile"],
            "networkProfile": profile["networkProfile"], "osProfile": os_profile,
            "capacityReservation": {"capacityReservationGroup": {"id": self.group_id}},
            "virtualMachineScaleSet": {"id": self.vmss_id}}}
        status, _, answer = _Unthrottled(self.sim).call(
            "PUT", self.base + "/providers/Microsoft.Compute/virtualMachines/" + name, body)
        if status >= 300:
            raise RuntimeError("seeding {} failed: {} {}".format(name, status, answer))

    # --- end state, read through the API (not timed) ------------------------------------------------
    def state(self):
        """('attached' | 'detached' | 'mixed', the power states seen)."""
        c = self.sim.client
        gid = self.group_id.lower()
        if self.flexible:
            vms = c.list(self.base + "/providers/Microsoft.Compute/virtualMachines?$expand=instanceView")
            groups = {_group(vm["properties"].get("capacityReservation")) for vm in vms}
            powers = {_power(vm["properties"]["instanceView"]) for vm in vms}
            attached, detached = groups == {gid}, groups == {None}
        else:
            vmss = c.request("GET", self.vmss_id)
            model = _group(vmss["properties"]["virtualMachineProfile"].get("capacityReservation"))
            instances = c.list(self.vmss_id + "/virtualMachines?$expand=instanceView")
            group = c.request("GET", self.group_id + "?$expand=instanceView")
            associated = len(group["properties"].get("virtualMachinesAssociated") or [])
            powers = {_power(i["properties"]["instanceView"]) for i in instances}
            latest = all(i["properties"].get("latestModelApplied") for i in instances)
            attached = latest and model == gid and associated == self.n
            detached = latest and model is None and associated == 0
        state = "attached" if attached else "detached" if detached else "mixed"
        return state, sorted(p or "?" for p in powers)

    def check(self, expected):
        state, powers = self.state()
        if state != expected or powers != ["running"]:
            raise RuntimeError("{} {}: expected {} with every instance running, found {} ({})".format(
                self.mode, self.n, expected, state, ", ".join(powers)))


class _Unthrottled:
    """The simulator's client for seeding, which is not measured: a write over the budget resets the budget
    (in the throttled pass) instead of waiting for it."""

    def __init__(self, sim):
        self.sim = sim

    def request(self, method, path, body=None):
        while True:
            try:
                return self.sim.client.request(method, path, body)
            except ArmError as e:
                if e.status != 429:
                    raise
                self.sim.reset_throttle()

    def call(self, method, path, body=None):
        while True:
            answer = self.sim.client.call(method, path, body)
            if answer[0] != 429:
                return answer
            self.sim.reset_throttle()


def _profile(subnet, group_id=None):
    profile = {
        "osProfile": {"computerNamePrefix": SCALE_SET, "adminUsername": "azureuser",
                      "linuxConfiguration": {"disablePasswordAuthentication": True, "ssh": {"publicKeys": [
                          {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}]}}},
        "storageProfile": {"imageReference": IMAGE, "osDisk": {
            "createOption": "FromImage", "caching": "ReadWrite", "managedDisk": {"storageAccountType": "Premium_LRS"}}},
        "networkProfile": {"networkInterfaceConfigurations": [{"name": "nic", "properties": {
            "primary": True, "ipConfigurations": [{"name": "ipconfig", "properties": {"subnet": {"id": subnet}}}]}}]},
    }
    if group_id:
        profile["capacityReservation"] = {"capacityReservationGroup": {"id": group_id}}
    return profile


def _group(capacity_reservation):
    group = (capacity_reservation or {}).get("capacityReservationGroup") or {}
    return group["id"].lower() if group.get("id") else None


def _power(view):
    codes = [s["code"] for s in (view or {}).get("statuses") or [] if s["code"].startswith("PowerState/")]
    return codes[0].split("/", 1)[1] if codes else None
