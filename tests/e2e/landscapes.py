# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Landscapes for the end-to-end tests, and the end state read back through stock az commands."""
import os
import signal
import subprocess
import time

SIZE = "Standard_D2s_v3"
WRITES = ("PUT", "PATCH", "POST", "DELETE")


def crg(name="g", zones=("1",), capacity=10):
    if zones:
        return {"name": name, "zones": list(zones),
                "reservations": [{"name": "r" + z, "sku": SIZE, "capacity": capacity, "zone": z} for z in zones]}
    return {"name": name, "reservations": [{"name": "r", "sku": SIZE, "capacity": capacity}]}


def uniform(name="u", policy="Manual", zones=("1",), capacity=3, group="g", power=None, **extra):
    spec = {"name": name, "orchestrationMode": "Uniform", "upgradePolicy": policy, "sku": SIZE,
            "capacity": capacity, "zones": list(zones), "capacityReservationGroup": group, "power": power or {}}
    spec.update(extra)
    return spec


def flexible(name="f", members=(), profile=False, zones=("1",), group="g", capacity=0, **extra):
    spec = {"name": name, "orchestrationMode": "Flexible", "profile": profile, "members": list(members)}
    if profile:
        spec.update(sku=SIZE, capacity=capacity, zones=list(zones), capacityReservationGroup=group)
    spec.update(extra)
    return spec


def member(name, zone="1", group="g", power="running"):
    return {"name": name, "zone": zone, "capacityReservationGroup": group, "power": power}


def seed(sim, rg, groups, scale_sets, vms=()):
    sim.seed({"location": "eastus", "resourceGroups": [
        {"name": rg, "capacityReservationGroups": list(groups), "scaleSets": list(scale_sets),
         "virtualMachines": list(vms)}]})


def move(sim, verb, rg, name, *extra, expect=0, env=None):
    return sim.az("vmss", "capacity-reservation", verb, "-g", rg, "-n", name, *extra, expect=expect, env=env)


def writes(sim, mark, rg=None):
    log = sim.requests(mark)["requests"]
    return [(e["method"], e["path"]) for e in log if e["method"] in WRITES
            and (rg is None or "/resourcegroups/{}/".format(rg.lower()) in e["path"].lower())]


# --- end state through stock az ------------------------------------------------------------------
def model_group(sim, rg, name):
    _, vmss, _ = sim.az("vmss", "show", "-g", rg, "-n", name)
    profile = vmss.get("virtualMachineProfile") or {}
    return ((profile.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")


def associated(sim, rg, group="g"):
    _, g, _ = sim.az("capacity", "reservation", "group", "show", "-g", rg, "-n", group, "--instance-view")
    return sorted(v["id"].split("/providers/Microsoft.Compute/")[1] for v in g.get("virtualMachinesAssociated") or [])


def capacities(sim, rg, group="g"):
    _, rs, _ = sim.az("capacity", "reservation", "list", "-g", rg, "-c", group)
    return {r["name"]: r["sku"]["capacity"] for r in rs}


def powers(sim, rg, name, flexible_members=None):
    """Power state per member: Uniform by instance id, Flexible by VM name ("all": every VM in the group)."""
    if flexible_members is None:
        _, views, _ = sim.az("vmss", "list-instances", "-g", rg, "-n", name, "--expand", "instanceView")
        return {i["instanceId"]: _power(i["instanceView"]) for i in views}
    _, vms, _ = sim.az("vm", "list", "-g", rg, "-d", "--query", "[].{name:name, power:powerState}")
    return {vm["name"]: vm["power"].split()[-1] for vm in vms
            if flexible_members == "all" or vm["name"] in flexible_members}


def vm_group(sim, rg, vm):
    _, shown, _ = sim.az("vm", "show", "-g", rg, "-n", vm)
    return ((shown.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")


def _power(view):
    return [s["code"].split("/")[1] for s in view["statuses"] if s["code"].startswith("PowerState/")][0]


def run_to_file(sim, tmp_path, *args):
    """`az args 2> FILE`: stderr redirected to a file, as in a CI log. Returns (exit code, stderr text)."""
    path = tmp_path / "stderr.txt"
    with open(path, "w") as err:
        done = subprocess.run([sim_az(sim)] + list(args), env=sim.env(), stdout=subprocess.DEVNULL, stderr=err,
                              stdin=subprocess.DEVNULL, timeout=300, cwd=sim.dir)
    return done.returncode, path.read_text()


# --- interruptions ---------------------------------------------------------------------------------
def interruptible():
    """For Popen's preexec_fn: Ctrl-C (SIGINT) reaches the child even when pytest was started with SIGINT ignored (in
    the background of a shell, as CI runners may), which the child would inherit and az then never sees it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_killed_after_writes(sim, args, n_writes, timeout=120):
    """Start `az args`, and SIGKILL it as soon as the simulator has answered `n_writes` write requests."""
    mark = sim.mark()

    def due():
        return len([e for e in sim.requests(mark)["requests"] if e["method"] in WRITES]) >= n_writes
    return _run_killed_when(sim, args, due, timeout)


def run_killed_after(sim, args, seconds, timeout=120):
    """Start `az args`, and SIGKILL it `seconds` after it started, wherever it is (a request in flight, a poll,
    a sleep between retries). Returns its exit code: -9 when killed, else how it ended by itself."""
    deadline = time.time() + seconds
    return _run_killed_when(sim, args, lambda: time.time() >= deadline, timeout)


def _run_killed_when(sim, args, due, timeout):
    proc = subprocess.Popen([sim_az(sim)] + list(args), env=sim.env(), stdout=subprocess.DEVNULL, cwd=sim.dir,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout
    try:
        while proc.poll() is None and time.time() < deadline:
            if due():
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(30)
    return proc.returncode


def sim_az(sim):
    from conftest import AZ
    return AZ
