# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The benchmark's scale sets: seeded fast through armsim's ARM API, and their end state read back directly.

Every scale set is regional, on a regional group `g` whose one reservation covers all its instances, with
every instance running: Uniform with upgrade policy Manual, Flexible without a VM profile (its members are
VMs that name it).
"""
from collections import Counter

from armsim import seed
from armsim.client import ArmError

SIZE = "Standard_D2s_v3"
LOCATION = "eastus"
GROUP = "g"
SCALE_SET = "ss"
UNIFORM, FLEXIBLE = "Uniform", "Flexible"


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
        """Through armsim's own seeding (armsim/seed.py); the member VMs without waiting for each one."""
        spec = {"name": self.rg, "capacityReservationGroups": [
            {"name": GROUP, "reservations": [{"name": "r", "sku": SIZE, "capacity": self.n}]}]}
        if self.flexible:
            self.members = ["{}-vm{:04d}".format(SCALE_SET, i) for i in range(self.n)]
            spec["scaleSets"] = [{"name": SCALE_SET, "orchestrationMode": FLEXIBLE, "profile": False, "members": [
                {"name": name, "sku": SIZE, "capacityReservationGroup": GROUP} for name in self.members]}]
        else:
            spec["scaleSets"] = [{"name": SCALE_SET, "orchestrationMode": UNIFORM, "upgradePolicy": "Manual",
                                  "sku": SIZE, "capacity": self.n, "capacityReservationGroup": GROUP}]
        seed.seed_group(_Unthrottled(self.sim), spec, LOCATION, Counter())
        self.sim.settle()

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
        if self.sim.throttled:  # not measured: the reads start with full buckets (each run starts so again)
            self.sim.reset_throttle()
        state, powers = self.state()
        if state != expected or powers != ["running"]:
            raise RuntimeError("{} {}: expected {} with every instance running, found {} ({})".format(
                self.mode, self.n, expected, state, ", ".join(powers)))


class _Unthrottled:
    """The simulator's client for seeding, which is not measured: a request over the budget or a bucket (in the
    throttled passes) resets them instead of waiting, a request that waits for its operation starts with full
    buckets (its polls are reads), and a member VM's creation is not waited for (the simulator finishes them
    all; Landscape.seed then waits for it to settle)."""

    def __init__(self, sim):
        self.sim = sim
        self.sub = sim.sub

    def request(self, method, path, body=None):
        wait = "/virtualmachines/" not in path.lower()
        while True:
            if wait and self.sim.throttled:
                self.sim.reset_throttle()
            try:
                return self.sim.client.request(method, path, body, wait=wait)
            except ArmError as e:
                if e.status != 429:
                    raise
                self.sim.reset_throttle()

    def list(self, path):
        if self.sim.throttled:
            self.sim.reset_throttle()
        return self.sim.client.list(path)


def _group(capacity_reservation):
    group = (capacity_reservation or {}).get("capacityReservationGroup") or {}
    return group["id"].lower() if group.get("id") else None


def _power(view):
    codes = [s["code"] for s in (view or {}).get("statuses") or [] if s["code"].startswith("PowerState/")]
    return codes[0].split("/", 1)[1] if codes else None
