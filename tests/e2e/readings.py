# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The readings matrix: the end-to-end attach/detach scenarios run under each reading of armsim's decision rules
(the open questions of how Azure behaves), one reading switched at a time, each with the same end-state checks
through stock az. `make readings` runs every cell and prints the matrix (python tests/e2e/readings.py --help);
tests/e2e/test_reading_matrix.py runs the fast cut (FAST) in `make test`.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
# the checkout (armsim), tests/ (conftest) and tests/e2e (landscapes), when run as a script
for path in (os.path.dirname(os.path.dirname(HERE)), os.path.dirname(HERE), HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

from armsim import rules  # noqa: E402
from landscapes import (associated, capacities, crg, flexible, member, model_group, powers, seed,  # noqa: E402
                        sim_az, uniform, vm_group)

DEFAULT = "default"
TIMEOUT = float(os.environ.get("READINGS_TIMEOUT", "60"))  # seconds one command may take (they take < 20)


def readings():
    """"default" (every rule in its first reading), then each other reading of each decision rule: `ID=READING`."""
    out = [DEFAULT]
    for rule in rules.RULES:
        if rule.readings:
            out += ["{}={}".format(rule.id, name) for name in list(rule.readings)[1:]]
    return out


# --- scenarios: a landscape, one command, the end state through stock az -------------------------------------
Scenario = namedtuple("Scenario", "name landscape verb args check")
FLEX_MEMBERS = ["m-0", "m-1", "m-2"]
FLEX_POWER = {"m-0": "running", "m-1": "deallocated", "m-2": "running"}
UNIFORM_POWER = {"0": "running", "1": "deallocated", "2": "running"}


def _ends_with(value, group):
    return bool(value) and value.lower().endswith("/capacityreservationgroups/" + group)


def _instances(name="u", ids="012"):
    return sorted("virtualMachineScaleSets/{}/virtualMachines/{}".format(name, i) for i in ids)


def _uniform_attached(group="g", away=None):
    def check(sim, rg, result):
        assert result["status"]["state"] == "attached", result["status"]
        assert _ends_with(model_group(sim, rg, "u"), group), model_group(sim, rg, "u")
        assert associated(sim, rg, group) == _instances(), associated(sim, rg, group)
        if away:
            assert associated(sim, rg, away) == [], associated(sim, rg, away)
        assert powers(sim, rg, "u") == UNIFORM_POWER, powers(sim, rg, "u")
    return check


def _flex_attached(group="g", away=None):
    def check(sim, rg, result):
        assert result["status"]["state"] == "attached", result["status"]
        groups = {n: vm_group(sim, rg, n) for n in FLEX_MEMBERS}
        assert all(_ends_with(g, group) for g in groups.values()), groups
        assert associated(sim, rg, group) == sorted("virtualMachines/" + n for n in FLEX_MEMBERS)
        if away:
            assert associated(sim, rg, away) == [], associated(sim, rg, away)
        assert powers(sim, rg, "f", FLEX_MEMBERS) == FLEX_POWER, powers(sim, rg, "f", FLEX_MEMBERS)
    return check


def _profile_attached(sim, rg, result):
    assert result["status"]["state"] == "attached", result["status"]
    assert _ends_with(model_group(sim, rg, "f"), "g"), model_group(sim, rg, "f")
    listed = associated(sim, rg)
    assert len(listed) == 2 and all(v.startswith("virtualMachines/") for v in listed), listed
    assert set(powers(sim, rg, "f", "all").values()) == {"running"}


def _uniform_detached(capacity):
    def check(sim, rg, result):
        assert result["status"]["state"] == "detached", result["status"]
        assert model_group(sim, rg, "u") is None and associated(sim, rg) == [], associated(sim, rg)
        assert powers(sim, rg, "u") == UNIFORM_POWER, powers(sim, rg, "u")
        assert set(capacities(sim, rg).values()) == {capacity}, capacities(sim, rg)
    return check


def _flex_detached(sim, rg, result):
    assert result["status"]["state"] == "detached", result["status"]
    assert associated(sim, rg) == [] and all(vm_group(sim, rg, n) is None for n in FLEX_MEMBERS)
    assert powers(sim, rg, "f", FLEX_MEMBERS) == FLEX_POWER, powers(sim, rg, "f", FLEX_MEMBERS)


def _profile_detached(sim, rg, result):
    assert result["status"]["state"] == "detached", result["status"]
    assert model_group(sim, rg, "f") is None and associated(sim, rg) == [], associated(sim, rg)
    assert set(powers(sim, rg, "f", "all").values()) == {"running"}


def _flex(zones, group):
    zone = zones[0] if zones else None
    return flexible(members=[member(n, zone=zone, group=group, power=FLEX_POWER[n]) for n in FLEX_MEMBERS])


def scenarios():
    out = []
    for zones, where in ((("1",), "zonal"), ((), "regional")):
        for policy in ("Automatic", "Rolling", "Manual"):
            out.append(Scenario("attach-uniform-{}-{}".format(policy.lower(), where),
                                ([crg(zones=zones)], [uniform(policy=policy, zones=zones, group=None,
                                                              power={"1": "deallocated"})]),
                                "attach", ["--crg", "g"], _uniform_attached()))
        out.append(Scenario("attach-flex-{}".format(where), ([crg(zones=zones)], [_flex(zones, None)]),
                            "attach", ["--crg", "g"], _flex_attached()))
    out.append(Scenario("attach-flex-profile", ([crg()], [flexible(profile=True, capacity=2, group=None)]),
                        "attach", ["--crg", "g"], _profile_attached))
    out.append(Scenario("switch-uniform", ([crg("a"), crg("b")], [uniform(group="a", policy="Automatic",
                                                                          power={"1": "deallocated"})]),
                        "attach", ["--crg", "b"], _uniform_attached("b", away="a")))
    out.append(Scenario("switch-flex", ([crg("a"), crg("b")], [_flex(("1",), "a")]),
                        "attach", ["--crg", "b"], _flex_attached("b", away="a")))
    for zones, where in ((("1",), "zonal"), ((), "regional")):
        for policy in ("Automatic", "Rolling", "Manual"):
            for strategy, capacity in (("deallocate", 10), ("zero-capacity", 0)):
                if where == "regional" and policy != "Manual":
                    continue  # regional: the policy whose steps differ most; zonal covers the others
                out.append(Scenario("detach-uniform-{}-{}-{}".format(policy.lower(), where, strategy),
                                    ([crg(zones=zones)], [uniform(policy=policy, zones=zones,
                                                                  power={"1": "deallocated"})]),
                                    "detach", ["--strategy", strategy], _uniform_detached(capacity)))
    out.append(Scenario("detach-flex", ([crg()], [_flex(("1",), "g")]), "detach", [], _flex_detached))
    out.append(Scenario("detach-flex-profile", ([crg()], [flexible(profile=True, capacity=2, group="g")]),
                        "detach", [], _profile_detached))
    return {s.name: s for s in out}


SCENARIOS = scenarios()

# The fast cut `make test` runs: every reading, with the scenario its question matters most to.
FAST = {
    DEFAULT: "attach-uniform-manual-regional",
    "A3s=in-place": "switch-flex",
    "A3p=refused": "attach-flex-zonal",
    "A3z=allowed-at-zero": "attach-uniform-manual-regional",
    "A4z=zonal-only": "detach-uniform-manual-regional-zero-capacity",
    "A5s=in-place": "switch-uniform",
    "A5i=on-instances": "attach-uniform-automatic-regional",
    "A6s=applies-model": "attach-uniform-manual-regional",
    "A6d=on-start": "attach-uniform-manual-regional",
    "A6r=waits": "attach-uniform-rolling-zonal",
    "A7=follows-policy": "attach-flex-profile",
    "A10=ignored": "attach-uniform-manual-zonal",
    "A11=shown": "detach-uniform-manual-zonal-deallocate",
    "C5=lag": "attach-flex-zonal",
}

# Cells the extension does not pass yet, and what it would need to do (the next phase turns them into passes).
EXPECTED_FAIL = {}


Cell = namedtuple("Cell", "reading scenario passed requests seconds error")


def run_cell(sim, reading, scenario):
    """Seed the scenario's landscape in a resource group of its own, run the command once, check the end state."""
    s = SCENARIOS[scenario]
    rg = "rd-" + scenario
    groups, scale_sets = s.landscape
    seed(sim, rg, groups, scale_sets)
    if reading.startswith("C5="):
        time.sleep(rules.LAG_SECONDS + 0.5)  # a settled landscape: the seeding's own changes listed
    mark, started = sim.mark(), time.time()
    try:
        code, result, err = command(sim, [s.verb, "-g", rg, "-n", scale_sets[0]["name"]] + s.args)
    finally:
        seconds = time.time() - started
        requests = len(sim.requests(mark)["requests"])
    try:
        assert code == 0, "exit {}: {}".format(code, " ".join((err or "").strip().splitlines()[-2:]))
        s.check(sim, rg, result)
    except AssertionError as e:
        return Cell(reading, scenario, False, requests, seconds, str(e).splitlines()[0][:300] if str(e) else
                    "end state differs")
    return Cell(reading, scenario, True, requests, seconds, None)


def command(sim, args, timeout=TIMEOUT):
    """`az vmss capacity-reservation ARGS --yes`: (exit code, parsed JSON, stderr); a command still running after
    `timeout` seconds is stopped and counts as failed (a wait for something that never comes)."""
    try:
        done = subprocess.run([sim_az(sim), "vmss", "capacity-reservation"] + list(args) + ["--yes"],
                              env=sim.env(), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, cwd=sim.dir)
    except subprocess.TimeoutExpired:
        return -1, None, "still running after {} s: stopped".format(timeout)
    try:
        result = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        result = None
    return done.returncode, result, done.stderr


def overrides(reading):
    return [] if reading == DEFAULT else [reading]


def table(cells):
    """reading x scenario: PASS/FAIL (xfail: expected), requests, seconds."""
    row = "{:<24} {:<46} {:<6} {:>8} {:>8}"
    lines = [row.format("reading", "scenario", "result", "requests", "seconds")]
    for c in cells:
        result = "pass" if c.passed else ("xfail" if (c.reading, c.scenario) in EXPECTED_FAIL else "FAIL")
        lines.append(row.format(c.reading, c.scenario, result, c.requests, "{:.1f}".format(c.seconds)))
    failed = [c for c in cells if not c.passed]
    lines.append("{} cells: {} passed, {} failed".format(len(cells), len(cells) - len(failed), len(failed)))
    for c in failed:
        lines.append("  {} / {}: {}".format(c.reading, c.scenario, c.error))
    return "\n".join(lines)


def main(argv=None):
    from conftest import sim_up
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", help="comma-separated subset (default: all): default, A6d=on-start, ...")
    parser.add_argument("--scenarios", help="comma-separated subset (default: all); 'fast': the fast cut's")
    parser.add_argument("--lro-seconds", type=float, help="armsim's --lro-seconds (default: armsim's own)")
    args = parser.parse_args(argv)
    chosen = args.readings.split(",") if args.readings else readings()
    unknown = [r for r in chosen if r not in readings()]
    if unknown:
        parser.error("unknown readings {}; known: {}".format(", ".join(unknown), ", ".join(readings())))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: the simulator is stopped, the table printed
    cells = []
    try:
        for reading in chosen:
            names = [FAST[reading]] if args.scenarios == "fast" else (
                args.scenarios.split(",") if args.scenarios else list(SCENARIOS))
            with tempfile.TemporaryDirectory(prefix="readings-") as directory:
                with sim_up(directory, rule_overrides=overrides(reading), pause_scale=0.01,
                            lro_seconds=args.lro_seconds) as sim:
                    for name in names:
                        cell = run_cell(sim, reading, name)
                        cells.append(cell)
                        print("{:<24} {:<46} {}".format(reading, name, "pass" if cell.passed else "FAIL"),
                              file=sys.stderr, flush=True)
    finally:
        print(table(cells), flush=True)
    return 0 if all(c.passed or (c.reading, c.scenario) in EXPECTED_FAIL for c in cells) else 1


if __name__ == "__main__":
    sys.exit(main())
