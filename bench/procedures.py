# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The two ways to the same end state: our one command, and the documented `az` commands run one after another.

The documented way is what a person (or a script that follows the documents) types, in order:
  Uniform (remove-vmss-from-capacity-reservation-group.md option 1, and modify-a-vmss.md for the Manual
  policy's instances): az vmss deallocate; az vmss update --capacity-reservation-group None|G;
  az vmss update-instances --instance-ids '*'; az vmss start.
  Flexible (associate-flexible-vmss-to-capacity-reservation-group.md: each member through its own VM),
  member by member: az vm deallocate; az vm update --capacity-reservation-group None|G; az vm start.
  status: az vmss show; az vmss list-instances.
"""
import json

from .landscape import GROUP, SCALE_SET


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


def critical_path(result):
    """Long-running operations that must follow one another in our plan: each step is one round of
    operations run together, except reservation capacity changes, which run one after another."""
    return sum(s["count"] if s["action"] == "setReservationCapacity" else 1 for s in result["steps"])
