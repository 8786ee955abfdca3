# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Three ways to the same end state: our one command, the documented `az` commands run one after another, and
the script an experienced operator writes.

The documented way is what a person (or a script that follows the documents) types, in order:
  Uniform (remove-vmss-from-capacity-reservation-group.md option 1, and modify-a-vmss.md for the Manual
  policy's instances): az vmss deallocate; az vmss update --capacity-reservation-group None|G;
  az vmss update-instances --instance-ids '*'; az vmss start.
  Flexible (associate-flexible-vmss-to-capacity-reservation-group.md: each member through its own VM),
  member by member: az vm deallocate; az vm update --capacity-reservation-group None|G; az vm start.
  status: az vmss show; az vmss list-instances.

The expert's script (Flexible) hands every member to one command at a time and does not wait where az need not:
  az vm deallocate --ids ... --no-wait; az vm wait --ids ... (until deallocated); the update; az vm start --ids
  ... --no-wait; and, as the others end with every member running, the time until the last start has finished
  (read from the simulator, no ARM request). The update cannot be `az vm update --ids A B ...`: with more than one
  id the pinned az fails on the client ("Model 'AAZArgumentsSchema' has conflict defined field 'identity'"), so
  the expert runs `az vm update -g RG -n VM --capacity-reservation-group None|G --no-wait` per member, PARALLEL at a
  time, then `az vm wait --ids ... --updated`. Uniform: the same four commands as the documented way, which
  already act on the whole scale set.
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor

from .landscape import GROUP, SCALE_SET

PARALLEL = 4  # az processes at a time in the expert's update step (2 cores)


def ours(sim, scape, verb):
    """(seconds, the command's result object)."""
    args = ["vmss", "capacity-reservation", verb, "-g", scape.rg, "-n", SCALE_SET]
    if verb == "attach":
        args += ["--crg", GROUP]
    if verb != "status":
        args.append("--yes")
    seconds, done = sim.az(*args)
    return seconds, json.loads(done.stdout)


def documented_commands(scape, verb):
    """The documented `az` commands for `verb`, in order."""
    rg = ["--resource-group", scape.rg]
    if verb == "status":
        return [["vmss", "show"] + rg + ["--name", SCALE_SET], ["vmss", "list-instances"] + rg + ["--name", SCALE_SET]]
    group = "None" if verb == "detach" else scape.group_id
    if not scape.flexible:
        name = rg + ["--name", SCALE_SET]
        return [["vmss", "deallocate"] + name,
                ["vmss", "update"] + name + ["--capacity-reservation-group", group],
                ["vmss", "update-instances"] + name + ["--instance-ids", "*"],
                ["vmss", "start"] + name]
    out = []
    for vm in scape.members:
        name = rg + ["--name", vm]
        out += [["vm", "deallocate"] + name, ["vm", "update"] + name + ["--capacity-reservation-group", group],
                ["vm", "start"] + name]
    return out


def documented(sim, scape, verb):
    """(seconds, number of az invocations): the commands one after another, each waiting for the last."""
    commands = documented_commands(scape, verb)
    total = 0.0
    for args in commands:
        seconds, _ = sim.az(*args)
        total += seconds
    return total, len(commands)


def expert_commands(scape, verb):
    """The expert's `az` commands for `verb` (Flexible), in order: each item a list of commands run PARALLEL at a
    time."""
    ids = ["--ids"] + [scape.base + "/providers/Microsoft.Compute/virtualMachines/" + vm for vm in scape.members]
    group = "None" if verb == "detach" else scape.group_id
    deallocated = "instanceView.statuses[?code=='PowerState/deallocated']"
    return [[["vm", "deallocate"] + ids + ["--no-wait"]],
            [["vm", "wait"] + ids + ["--custom", deallocated, "--interval", "1"]],
            [["vm", "update", "--resource-group", scape.rg, "--name", vm, "--capacity-reservation-group", group,
              "--no-wait"] for vm in scape.members],
            [["vm", "wait"] + ids + ["--updated", "--interval", "1"]],
            [["vm", "start"] + ids + ["--no-wait"]]]


def expert(sim, scape, verb):
    """(seconds, number of az invocations): the expert's script, then the wait until every member runs."""
    if not scape.flexible:
        return documented(sim, scape, verb)
    steps = expert_commands(scape, verb)
    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        for commands in steps:
            list(pool.map(lambda args: sim.az(*args), commands))
    sim.settle()
    return time.perf_counter() - started, sum(len(c) for c in steps)


def critical_path(result):
    """Long-running operations that must follow one another in our plan: each step is one round of
    operations run together, except reservation capacity changes, which run one after another."""
    return sum(s["count"] if s["action"] == "setReservationCapacity" else 1 for s in result["steps"])
