# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Chaos and kill runs: the real `az` with the installed wheel against armsim with injected faults, or killed
at random moments, re-run as a user would until it succeeds; the invariants are checked through stock az after
every run that exits 0 and at the end of every seed.

Each seed picks a scenario (Uniform or Flexible, attach or detach, in turn; upgrade policy, zones, power states,
strategy and batch size at random) and, with the simulator's fault spec or the kill delays, is deterministic.
`CHAOS_SEEDS` and `KILL_SEEDS` choose the seeds ("N": 1..N, "A-B": A..B), `CHAOS_FAULTS` the fault spec (without
its seed), `CHAOS_LRO_SECONDS` and `KILL_LRO_SECONDS` how long operations take; `make chaos` runs the long form.

`CHAOS_SCARCITY` (seeds, as CHAOS_SEEDS) adds seeds where on-demand capacity is short (armsim rules K1-K7): the
pool of the scenario's zone or region holds 0 machines, or fewer than the members, and an attach's target
reservation may hold fewer than the members. A run there may end not done; the invariant is then that every member
that was running runs, on the target association or back on its original one, with no reservation changed except
as zero-capacity does. The extension's allocation retry is bounded to ALLOCATION_RETRY seconds here.
"""
import os
import random
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "e2e"))
from conftest import AZ  # noqa: E402
from landscapes import SIZE, crg, flexible, member, run_killed_after, seed, uniform  # noqa: E402

MAX_RUNS = 8  # a user re-runs a failed command; more than this is a violation
SCARCE_RUNS = 3  # where capacity is short a re-run does not help: a user tries this many times, then stops
RUN_TIMEOUT = 300
ALLOCATION_RETRY = "3"  # seconds a start that finds no capacity is retried (vmsscrg.allocation_retry_timeout)
FAULTS = os.environ.get("CHAOS_FAULTS") or (
    "throttle=0.05:1,error500=0.03,error503=0.02,conflict=0.04,reset=0.03,reset-after=0.03,slow=0.05:0.5,"
    "lro-failed=0.1")


def seeds(variable, default):
    text = os.environ.get(variable) or default
    first, _, last = text.partition("-")
    return list(range(int(first), int(last) + 1)) if last else list(range(1, int(first) + 1))


@dataclass(frozen=True)
class Scenario:
    seed: int
    kind: str  # uniform | flexible
    verb: str  # attach | detach
    rg: str
    target: Optional[str]  # the group wanted at the end (None: detached)
    zero: bool  # detach --strategy zero-capacity: the reservations of group g may go to 0
    groups: tuple  # the landscape, as landscapes.seed takes it
    scale_set: dict
    args: Tuple[str, ...]
    free: Optional[int] = None  # scarcity: free on-demand machines in the scenario's pool (None: unlimited)
    name: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "name", "u" if self.kind == "uniform" else "f")

    @property
    def command(self):
        return ("vmss", "capacity-reservation", self.verb, "-g", self.rg, "-n", self.name) + self.args

    @property
    def pool(self):
        """The on-demand pool its members draw on (armsim rule K1)."""
        zones = self.scale_set.get("zones") or [m.get("zone") for m in self.scale_set.get("members") or []][:1]
        return "eastus{}:{}".format("/" + zones[0] if zones and zones[0] else "", SIZE)

    def describe(self):
        scarce = "" if self.free is None else " (on-demand free: {})".format(self.free)
        return "{} {} {} {}{}".format(self.seed, self.kind, self.verb, " ".join(self.args), scarce)


def scarce(sc):
    """The scenario with on-demand capacity short: 0 free, or fewer than the members; an attach's target
    reservation holds all the members, fewer, or one."""
    rng = random.Random("scarce-{}".format(sc.seed))
    count = len(sc.scale_set.get("members") or []) or sc.scale_set.get("capacity", 0)
    free = rng.choice([0, 0, rng.randint(1, max(1, count - 1))])
    zones = tuple(sc.groups[0].get("zones") or ())
    held = rng.choice([count, count - 1, 1]) if sc.verb == "attach" else 10
    groups = tuple(crg(g["name"], zones, capacity=held if g["name"] == sc.target else 10) for g in sc.groups)
    return replace(sc, groups=groups, free=free)


def scenario(number, prefix):
    """Scenario `number`: the four (kind, verb) pairs in turn, the rest drawn from the seed."""
    rng = random.Random(number)
    kind = ("uniform", "flexible")[number % 2]
    verb = ("detach", "attach")[number // 2 % 2]
    zones = ("1",) if rng.random() < 0.7 else ()
    start = "g" if verb == "detach" else rng.choice([None, "g"])
    target = None if verb == "detach" else ("g2" if start else "g")
    count = rng.randint(2, 4)
    power = [rng.choice(["running", "running", "running", "deallocated", "stopped"]) for _ in range(count)]
    if kind == "uniform":
        spec = uniform(policy=rng.choice(["Manual", "Automatic", "Rolling"]), zones=zones, capacity=count,
                       group=start, power={str(n): p for n, p in enumerate(power) if p != "running"})
    elif rng.random() < 0.3:  # members made from the profile, all running
        spec = flexible(profile=True, capacity=count, zones=zones, group=start)
    else:
        spec = flexible(members=[member("m{}".format(n), zone=zones[0] if zones else None, group=start, power=p)
                                 for n, p in enumerate(power)])
    zero = verb == "detach" and rng.random() < 0.4
    args = ("--yes", "--max-unavailable", str(rng.choice([25, 50, 100])))
    args += ("--crg", target) if target else ()
    args += ("--strategy", "zero-capacity") if zero else ()
    return Scenario(number, kind, verb, "{}-{}".format(prefix, number), target, zero,
                    (crg("g", zones), crg("g2", zones)), spec, args)


# --- the state, through stock az ------------------------------------------------------------------------------
@dataclass
class State:
    model: Optional[str]  # the model's group (name, lower case); None also without a VM profile
    profile: bool
    members: dict  # member key -> (group name or None, power state)
    capacities: dict  # "group/reservation" -> capacity


def az(sim, *args, timeout=RUN_TIMEOUT):
    """(exit code, stdout, stderr) of stock az against the simulator; exit code 124 when it hung. It runs in the
    simulator's directory: `az` is `python -m azure.cli`, which would import azext_vmsscrg from a source tree in
    its working directory before the installed wheel."""
    try:
        done = subprocess.run([AZ] + list(args), env=sim.env(AZURE_VMSSCRG_ALLOCATION_RETRY_TIMEOUT=ALLOCATION_RETRY),
                              capture_output=True, text=True, cwd=sim.dir,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        return 124, "", "timed out after {} s: {}".format(timeout, ex)
    return done.returncode, done.stdout, done.stderr


def observe(sim, sc):
    """The scale set, its members and the reservations, read with stock az commands (in parallel)."""
    import json
    calls = {"vmss": ["vmss", "show", "-g", sc.rg, "-n", sc.name],
             "groups": ["capacity", "reservation", "group", "list", "-g", sc.rg, "--vm-instance", "--vmss-instance"],
             "g": ["capacity", "reservation", "list", "-g", sc.rg, "-c", "g"],
             "g2": ["capacity", "reservation", "list", "-g", sc.rg, "-c", "g2"],
             "members": ["vmss", "list-instances", "-g", sc.rg, "-n", sc.name, "--expand", "instanceView"]
             if sc.kind == "uniform" else ["vm", "list", "-g", sc.rg, "-d"]}
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = dict(zip(calls, pool.map(lambda args: az(sim, *args, "-o", "json", timeout=120), calls.values())))
    failed = {k: err for k, (code, _, err) in answers.items() if code != 0}
    assert not failed, "stock az could not read the state: {}".format(failed)
    data = {k: json.loads(out) for k, (_, out, _) in answers.items()}
    profile = data["vmss"].get("virtualMachineProfile")
    model = _name((((profile or {}).get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id"))
    capacities = {"{}/{}".format(g, r["name"]): r["sku"]["capacity"] for g in ("g", "g2") for r in data[g]}
    members = {}
    if sc.kind == "uniform":
        held = {vm["id"].lower().rsplit("/", 1)[-1]: group["name"].lower() for group in data["groups"]
                for vm in group.get("virtualMachinesAssociated") or []
                if "/virtualmachinescalesets/{}/".format(sc.name) in vm["id"].lower()}
        for i in data["members"]:
            power = [s["code"].split("/")[1] for s in i["instanceView"]["statuses"]
                     if s["code"].startswith("PowerState/")]
            members[i["instanceId"]] = (held.get(i["instanceId"]), power[0] if power else None)
    else:
        for vm in data["members"]:
            group = ((vm.get("capacityReservation") or {}).get("capacityReservationGroup") or {}).get("id")
            members[vm["name"]] = (_name(group), (vm.get("powerState") or "").split()[-1] or None)
    return State(model, profile is not None, members, capacities)


def _name(resource_id):
    return resource_id.rstrip("/").rsplit("/", 1)[-1].lower() if resource_id else None


def violations(sc, before, after, done=True):
    """What the invariants say of the state `after`, given the state `before` the first run. A run that ended not
    done (capacity short) may leave the model and each member on the association it had before."""
    out = []
    if after.profile and after.model != sc.target and (done or after.model != before.model):
        out.append("the model is on {} instead of {}".format(after.model, sc.target))
    wrong = {k: g for k, (g, _) in sorted(after.members.items())
             if g != sc.target and (done or g != before.members.get(k, (None, None))[0])}
    if wrong:
        out.append("members not on {}{}: {}".format(sc.target, "" if done else " nor back where they were", wrong))
    down = {k: after.members.get(k, (None, "gone"))[1] for k, (_, p) in sorted(before.members.items())
            if p == "running" and after.members.get(k, (None, None))[1] != "running"}
    if down:
        out.append("members that were running are not: {}".format(down))
    if set(after.members) != set(before.members):
        out.append("the members changed: {} -> {}".format(sorted(before.members), sorted(after.members)))
    zeroable = {r for r in before.capacities if sc.zero and r.startswith("g/")}  # zero-capacity may set g's to 0
    changed = {r: (c, after.capacities.get(r)) for r, c in sorted(before.capacities.items())
               if after.capacities.get(r) != c and not (r in zeroable and after.capacities.get(r) == 0)}
    if changed:
        out.append("reservation capacities changed: {}".format(changed))
    return out


# --- runs -----------------------------------------------------------------------------------------------------
class Report:
    """What a suite saw: per seed the runs it needed, the faults injected, and any violation."""

    def __init__(self, title):
        self.title = title
        self.seeds, self.runs, self.faults, self.exits = [], Counter(), Counter(), Counter()
        self.violations = []
        self.allocation_failures, self.not_done = 0, 0
        self.started = time.time()

    def seed_done(self, sc, runs, problems, faults=None):
        self.seeds.append(sc.seed)
        self.runs[runs] += 1
        self.faults.update(faults or {})
        self.violations += ["seed {} ({}): {}".format(sc.seed, sc.describe(), p) for p in problems]

    def exit(self, code, err):
        self.exits[_error_kind(code, err)] += 1

    def summary(self):
        lines = ["{}: {} seed(s) ({}), {:.0f} s".format(self.title, len(self.seeds), _ranges(self.seeds),
                                                        time.time() - self.started),
                 "  runs needed per seed: {}".format(dict(sorted(self.runs.items()))),
                 "  exits: {}".format(dict(self.exits.most_common()))]
        if self.faults:
            lines.append("  faults injected: {} ({} in all)".format(dict(sorted(self.faults.items())),
                                                                    sum(self.faults.values())))
        if self.allocation_failures or self.not_done:
            lines.append("  allocation failures: {}; seeds left not done (capacity short): {}".format(
                self.allocation_failures, self.not_done))
        lines.append("  invariant violations: {}".format(len(self.violations)))
        lines += ["    " + v for v in self.violations]
        return "\n".join(lines)


def _error_kind(code, err):
    if code == 0:
        return "0 (success)"
    if code < 0:
        return "killed"
    if code == 124:
        return "hung"
    line = next((ln for ln in err.splitlines() if ln.startswith("ERROR:")), err.strip().splitlines()[-1:] or [""])
    text = line if isinstance(line, str) else line[0]
    return "{}: {}".format(code, text[len("ERROR: "):][:60])


def _ranges(numbers):
    return "{}-{}".format(min(numbers), max(numbers)) if numbers else "none"


def settle(sim, sc, before, report):
    """Run the command as a user would until it exits 0 (at most MAX_RUNS runs; SCARCE_RUNS where capacity is
    short, after which the state is checked as not done); check the state after that exit 0. Returns (runs,
    violations)."""
    runs = MAX_RUNS if sc.free is None else SCARCE_RUNS
    for run in range(1, runs + 1):
        code, _, err = az(sim, *sc.command, "-o", "none")
        report.exit(code, err)
        if code == 0:
            return run, checked(sim, sc, before)
    if sc.free is not None:
        report.not_done += 1
        return runs, checked(sim, sc, before, done=False)
    return MAX_RUNS, ["no success in {} runs; last error: {}".format(MAX_RUNS, err.strip()[-400:])]


def checked(sim, sc, before, done=True):
    """The invariants right after a run that exited 0 (or the last run, not done), with faults off while stock
    az reads."""
    set_faults(sim, enabled=False)
    try:
        return violations(sc, before, observe(sim, sc), done)
    finally:
        set_faults(sim, enabled=True)


def set_faults(sim, spec=None, enabled=None):
    body = {k: v for k, v in (("spec", spec), ("enabled", enabled)) if v is not None}
    status, _, report = sim.client.call("POST", "/simulator/faults", body, auth=False)
    assert status == 200, report
    return report


def chaos_seed(sim, number, report, spec=FAULTS, short=False):
    """One seed under faults: seed the landscape and read it (faults off), run until success, check. `short`: with
    on-demand capacity short (the seed's landscape holds its machines already; the pool is set after it)."""
    sc = scarce(scenario(number, "scarce")) if short else scenario(number, "chaos")
    set_faults(sim, "seed={},{}".format(number, spec), enabled=False)
    seed(sim, sc.rg, sc.groups, [sc.scale_set])
    before = observe(sim, sc)
    failed = set_capacity(sim, {sc.pool: sc.free})["allocationFailures"] if short else 0
    set_faults(sim, enabled=True)
    try:
        runs, problems = settle(sim, sc, before, report)
    finally:
        if short:
            report.allocation_failures += set_capacity(sim, {sc.pool: None})["allocationFailures"] - failed
    report.seed_done(sc, runs, problems, set_faults(sim, enabled=False)["injected"])


def set_capacity(sim, pools):
    """POST /simulator/capacity: free on-demand machines by pool (None: unlimited)."""
    status, _, answer = sim.client.call("POST", "/simulator/capacity", {"pools": pools}, auth=False)
    assert status == 200, answer
    return answer


def kill_seed(sim, number, report):
    """One seed with kills: one or two runs killed after a random delay, then runs until success, check."""
    sc = scenario(number, "kill")
    rng = random.Random("kill-{}".format(number))
    seed(sim, sc.rg, sc.groups, [sc.scale_set])
    before = observe(sim, sc)
    problems = []
    for _ in range(rng.randint(1, 2)):
        code = run_killed_after(sim, sc.command + ("-o", "none"), rng.uniform(0.3, 8.0))
        report.exit(code, "(ended by itself before the kill)")
        if code == 0:  # it finished before the kill: what it reported must hold
            problems += checked(sim, sc, before)
            break
    runs, more = settle(sim, sc, before, report)
    report.seed_done(sc, runs, problems + more)
