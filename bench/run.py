# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Run the benchmark matrix against one simulator: each landscape, our commands and the documented way."""
import math
import statistics
import sys
import time

from armsim import throttle

from . import procedures
from .landscape import FLEXIBLE, UNIFORM, Landscape
from .sim import counts

MODES = (UNIFORM, FLEXIBLE)
OPPOSITE = {"detach": "attach", "attach": "detach"}


class Settings:
    def __init__(self, sizes, repeat, short_seconds, doc_flexible_max, lro_seconds, write_budget=None):
        self.sizes = sizes
        self.repeat = repeat
        self.short_seconds = short_seconds  # runs shorter than this are repeated and reported as medians
        self.doc_flexible_max = doc_flexible_max  # largest Flexible N at which the documented way is run
        self.lro_seconds = lro_seconds
        self.write_budget = write_budget


def log(message):
    print(message, file=sys.stderr, flush=True)


class Measure:
    """Runs of one thing: seconds, requests by method, and the throttle's counters, per run."""

    def __init__(self):
        self.runs = []

    def add(self, seconds, requests, throttle=None, **extra):
        self.runs.append(dict(seconds=seconds, requests=requests, throttle=throttle, **extra))

    def summary(self):
        if not self.runs:
            return None
        seconds = [r["seconds"] for r in self.runs]
        median = statistics.median(seconds)
        typical = min(self.runs, key=lambda r: abs(r["seconds"] - median))
        out = {"seconds": round(median, 2), "runs": [round(s, 2) for s in seconds], "requests": typical["requests"]}
        for key in ("invocations", "steps", "critical_path", "throttle"):
            if typical.get(key) is not None:
                out[key] = typical[key]
        if any(r.get("throttle") for r in self.runs):
            out["throttle_all_runs"] = _sum_throttle([r["throttle"] for r in self.runs if r.get("throttle")])
        return out


def timed(sim, fn):
    """Run `fn()` -> (seconds, extra); returns (seconds, extra, requests by method, the throttle's counters).
    With a write budget, each run starts with the whole budget (the simulator's window and counters reset)."""
    if sim.write_budget:
        sim.reset_throttle()
    mark = sim.mark()
    seconds, extra = fn()
    entries = sim.requests(mark)
    after = sim.throttle() if sim.write_budget else None
    return seconds, extra, counts(entries), _throttle_counters(after)


def run_pass(sim, settings):
    rows = []
    for mode in MODES:
        for n in settings.sizes:
            rows += run_landscape(sim, settings, mode, n)
    return rows


def run_landscape(sim, settings, mode, n):
    sim.reset()
    scape = Landscape(sim, mode, n)
    started = time.time()
    scape.seed()
    log("[{} N={}] seeded in {:.0f} s".format(mode, n, time.time() - started))
    scape.check("attached")
    sim.az("vmss", "show", "-g", scape.rg, "-n", "ss", "-o", "none")  # warm: token cache, command index

    rows = []
    # status, in the attached state: ours and the documented reads, interleaved
    ours, doc = Measure(), Measure()
    for _ in range(settings.repeat):
        seconds, _, requests, throttle = timed(sim, lambda: procedures.ours(sim, scape, "status"))
        ours.add(seconds, requests, throttle)
        seconds, invocations, requests, throttle = timed(sim, lambda: procedures.documented(sim, scape, "status"))
        doc.add(seconds, requests, throttle, invocations=invocations)
    rows.append(_row("status", scape, ours, doc, settings))
    log("[{} N={}] status: ours {:.1f} s, documented {:.1f} s".format(
        mode, n, ours.summary()["seconds"], doc.summary()["seconds"]))

    # detach and attach. One round: ours detach, documented attach, documented detach, ours attach; each starts
    # from the state the one before left, and each end state is checked.
    doc_feasible = not scape.flexible or n <= settings.doc_flexible_max
    measures = {(who, verb): Measure() for who in ("ours", "doc") for verb in ("detach", "attach")}
    rounds, doc_rounds = settings.repeat, settings.repeat
    r = 0
    while r < rounds:
        sequence = [("ours", "detach")]
        if doc_feasible and r < doc_rounds:
            sequence += [("doc", "attach"), ("doc", "detach")]
        sequence.append(("ours", "attach"))
        for who, verb in sequence:
            if who == "ours":
                seconds, result, requests, throttle = timed(sim, lambda: procedures.ours(sim, scape, verb))
                path = procedures.critical_path(result)
                measures[who, verb].add(seconds, requests, throttle, critical_path=path,
                                        steps=[[s["action"], s.get("batch"), s["count"], s["seconds"]]
                                               for s in result["steps"]])
                if seconds > settings.short_seconds:
                    rounds = 1
            else:
                seconds, invocations, requests, throttle = timed(
                    sim, lambda: procedures.documented(sim, scape, verb))
                measures[who, verb].add(seconds, requests, throttle, invocations=invocations)
                if seconds > settings.short_seconds:
                    doc_rounds = 1
            scape.check("detached" if verb == "detach" else "attached")
            log("[{} N={}] {} {}: {:.1f} s".format(mode, n, who, verb, seconds))
        r += 1
    for verb in ("detach", "attach"):
        rows.append(_row(verb, scape, measures["ours", verb], measures["doc", verb], settings))
    return rows


def _row(verb, scape, ours, doc, settings):
    row = {"scenario": verb, "mode": scape.mode, "n": scape.n, "ours": ours.summary(), "documented": doc.summary()}
    if row["documented"] is None:
        row["documented"] = {"seconds": None, "estimated": True}
    if verb != "status":
        path = row["ours"]["critical_path"]
        row["critical_path_ops"] = path
        row["lro_seconds"] = settings.lro_seconds
        row["limit_seconds"] = round(path * settings.lro_seconds, 2)
        if settings.write_budget:
            # with a budget the last of W writes cannot be accepted before (ceil(W / budget) - 1) windows have
            # passed, and its operation then takes L: the limit is the later of that and the critical path
            writes = (row["ours"].get("throttle") or {}).get("accepted") or sum(
                row["ours"]["requests"][m] for m in ("PUT", "PATCH", "POST", "DELETE"))
            budget, window = throttle.parse(settings.write_budget)
            floor = (math.ceil(writes / budget) - 1) * window + settings.lro_seconds if writes else 0
            row["budget_limit_seconds"] = round(floor, 2)
            row["limit_seconds"] = max(row["limit_seconds"], row["budget_limit_seconds"])
        row["over_limit"] = round(row["ours"]["seconds"] / row["limit_seconds"], 2) if path else None
    return row


def estimate(rows):
    """Fill in the documented Flexible way where it was not run: its measured cost per member at the largest N
    where it ran, times N. Marked estimated, with the basis."""
    for row in rows:
        doc = row["documented"]
        if doc.get("seconds") is not None:
            row["ratio"] = round(doc["seconds"] / row["ours"]["seconds"], 1)
            continue
        measured = [r for r in rows if r["scenario"] == row["scenario"] and r["mode"] == row["mode"]
                    and r["documented"].get("seconds") is not None and not r["documented"].get("estimated")]
        if not measured:
            continue
        basis = max(measured, key=lambda r: r["n"])
        per_member = basis["documented"]["seconds"] / basis["n"]
        row["documented"] = {"seconds": round(per_member * row["n"], 1), "estimated": True,
                             "basis": "{:.2f} s per member measured at N={}, times N".format(per_member, basis["n"]),
                             "invocations": 3 * row["n"]}
        row["ratio"] = round(row["documented"]["seconds"] / row["ours"]["seconds"], 1)
    return rows


def _throttle_counters(status):
    if not status:
        return None
    return {k: status.get(k, 0) for k in ("accepted", "throttled", "early_retries", "writes_during_backoff")}


def _sum_throttle(items):
    keys = ("accepted", "throttled", "early_retries", "writes_during_backoff")
    return {k: sum(i.get(k, 0) for i in items) for k in keys}
