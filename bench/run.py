# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Run the benchmark matrix against one simulator: each landscape, our commands, the documented way and the
expert's script."""
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
    def __init__(self, sizes, repeat, short_seconds, doc_flexible_max, lro_seconds, write_budget=None,
                 arm_limits=None, expert_max=100, modes=MODES, moves=True, status=True, baselines=True):
        self.sizes = sizes
        self.modes = modes
        self.moves = moves  # detach and attach
        self.status = status
        self.baselines = baselines  # the documented way and the expert's script run beside our detach and attach
        self.repeat = repeat
        self.short_seconds = short_seconds  # runs shorter than this are repeated and reported as medians
        self.doc_flexible_max = doc_flexible_max  # largest Flexible N at which the documented way is run
        self.expert_max = expert_max  # largest Flexible N at which the expert's script is run
        self.lro_seconds = lro_seconds  # the mean, when operation times are drawn (MEAN:SPREAD:SEED)
        self.write_budget = write_budget
        self.arm_limits = arm_limits


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
        out["per_second"] = _rates(typical["requests"], typical["seconds"])
        for key in ("invocations", "steps", "critical_path", "throttle"):
            if typical.get(key) is not None:
                out[key] = typical[key]
        if any(r.get("throttle") for r in self.runs):
            out["throttle_all_runs"] = _sum_throttle([r["throttle"] for r in self.runs if r.get("throttle")])
        return out


def timed(sim, fn):
    """Run `fn()` -> (seconds, extra); returns (seconds, extra, requests by method, the throttle's counters).
    With a write budget or ARM's limits, each run starts with the whole budget and full buckets (the simulator's
    window, buckets and counters reset)."""
    if sim.throttled:
        sim.reset_throttle()
    mark = sim.mark()
    seconds, extra = fn()
    entries = sim.requests(mark)
    after = sim.throttle() if sim.throttled else None
    return seconds, extra, counts(entries), _throttle_counters(after)


def run_pass(sim, settings):
    rows = []
    for mode in settings.modes:
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

    rows = [_status(sim, settings, scape)] if settings.status else []
    if settings.moves:
        rows += _moves(sim, settings, scape)
    return rows


def _status(sim, settings, scape):
    """status, in the attached state: ours and the documented reads, interleaved."""
    ours, doc = Measure(), Measure()
    # short runs whose medians vary: three times the repeat at the largest N, where the target is
    runs = 3 * settings.repeat if scape.n == max(settings.sizes) else settings.repeat
    for _ in range(runs):
        seconds, _, requests, throttle = timed(sim, lambda: procedures.ours(sim, scape, "status"))
        ours.add(seconds, requests, throttle)
        seconds, invocations, requests, throttle = timed(sim, lambda: procedures.documented(sim, scape, "status"))
        doc.add(seconds, requests, throttle, invocations=invocations)
    log("[{} N={}] status: ours {:.1f} s, documented {:.1f} s".format(
        scape.mode, scape.n, ours.summary()["seconds"], doc.summary()["seconds"]))
    return _row("status", scape, ours, doc, settings)


def _moves(sim, settings, scape):
    rows = []
    mode, n = scape.mode, scape.n

    # detach and attach. One round: ours detach, documented attach, documented detach, expert attach, expert
    # detach, ours attach; each starts from the state the one before left, and each end state is checked. For
    # Uniform the expert's script is the documented one (not run twice).
    doc_feasible = settings.baselines and (not scape.flexible or n <= settings.doc_flexible_max)
    expert_feasible = settings.baselines and scape.flexible and n <= settings.expert_max
    measures = {(who, verb): Measure() for who in ("ours", "doc", "expert") for verb in ("detach", "attach")}
    rounds, doc_rounds, expert_rounds = settings.repeat, settings.repeat, settings.repeat
    r = 0
    while r < rounds:
        sequence = [("ours", "detach")]
        if doc_feasible and r < doc_rounds:
            sequence += [("doc", "attach"), ("doc", "detach")]
        if expert_feasible and r < expert_rounds:
            sequence += [("expert", "attach"), ("expert", "detach")]
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
                procedure = procedures.documented if who == "doc" else procedures.expert
                seconds, invocations, requests, throttle = timed(sim, lambda: procedure(sim, scape, verb))
                measures[who, verb].add(seconds, requests, throttle, invocations=invocations)
                if seconds > settings.short_seconds and who == "doc":
                    doc_rounds = 1
                elif seconds > settings.short_seconds:
                    expert_rounds = 1
            scape.check("detached" if verb == "detach" else "attached")
            log("[{} N={}] {} {}: {:.1f} s".format(mode, n, who, verb, seconds))
        r += 1
    for verb in ("detach", "attach"):
        rows.append(_row(verb, scape, measures["ours", verb], measures["doc", verb], settings,
                         measures["expert", verb]))
    return rows


def _row(verb, scape, ours, doc, settings, expert=None):
    row = {"scenario": verb, "mode": scape.mode, "n": scape.n, "ours": ours.summary(), "documented": doc.summary()}
    if row["documented"] is None:
        row["documented"] = {"seconds": None, "estimated": True}
    if verb != "status":
        row["expert"] = expert.summary() if scape.flexible else dict(row["documented"], same_as="documented")
        if row["expert"] is None:
            row["expert"] = {"seconds": None, "estimated": True}
    limits = throttle.parse_limits(settings.arm_limits or "on")[0]  # without --arm-limits: what Azure's impose
    row["bucket_floor_seconds"] = _floor(row["ours"]["requests"], limits)
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
        if settings.arm_limits:
            # the target of issue 18: the larger of the critical path and the write floor (writes and deletes;
            # reads are to stay within their bucket, not to set the pace)
            floor = row["bucket_floor_seconds"]
            write_floor = max(floor["writes"], floor["deletes"])
            if write_floor > row["limit_seconds"]:
                row["budget_limit_seconds"] = write_floor
                row["limit_seconds"] = write_floor
        row["over_limit"] = round(row["ours"]["seconds"] / row["limit_seconds"], 2) if path else None
    return row


def _floor(requests, limits):
    """Per kind, the seconds the buckets need at least to accept these requests: (requests - bucket) / refill
    rate, 0 when the bucket holds them all."""
    needed = {"reads": requests["GET"], "writes": requests["PUT"] + requests["PATCH"] + requests["POST"],
              "deletes": requests["DELETE"]}
    return {kind: round(max(0.0, (needed[kind] - size) / rate), 1) for kind, (size, rate) in limits.items()}


def _rates(requests, seconds):
    """Reads and writes (deletes included) per second over a run."""
    if not seconds:
        return None
    writes = sum(requests[m] for m in ("PUT", "PATCH", "POST", "DELETE"))
    return {"reads": round(requests["GET"] / seconds, 1), "writes": round(writes / seconds, 1)}


def estimate(rows):
    """Fill in the documented Flexible way (and the expert's script) where it was not run: its measured cost per
    member at the largest N where it ran, times N. Marked estimated, with the basis. Ratios: theirs / ours."""
    for who, ratio, invocations in (("documented", "ratio", lambda n: 3 * n), ("expert", "expert_ratio", None)):
        for row in rows:
            theirs = row.get(who)
            if theirs is None:
                continue
            if theirs.get("seconds") is not None:
                row[ratio] = round(theirs["seconds"] / row["ours"]["seconds"], 2)
                continue
            measured = [r for r in rows if r["scenario"] == row["scenario"] and r["mode"] == row["mode"]
                        and (r.get(who) or {}).get("seconds") is not None and not r[who].get("estimated")]
            if not measured:
                continue
            basis = max(measured, key=lambda r: r["n"])
            per_member = basis[who]["seconds"] / basis["n"]
            row[who] = {"seconds": round(per_member * row["n"], 1), "estimated": True,
                        "basis": "{:.2f} s per member measured at N={}, times N".format(per_member, basis["n"])}
            if invocations:
                row[who]["invocations"] = invocations(row["n"])
            row[ratio] = round(row[who]["seconds"] / row["ours"]["seconds"], 2)
    return rows


KINDS = ("reads", "writes", "deletes")
BUDGET_KEYS = ("accepted", "throttled", "early_retries", "writes_during_backoff")


def _throttle_counters(status):
    """The write budget's counters (top level) and, with ARM's limits, throttled answers and early retries per
    kind and Compute's refusals."""
    if not status:
        return None
    out = {k: status.get(k, 0) for k in BUDGET_KEYS}
    for kind in KINDS:
        if isinstance(status.get(kind), dict):  # the write budget's "writes" is its size
            out[kind] = {k: status[kind].get(k, 0) for k in ("accepted", "throttled", "early_retries")}
    if "compute" in status:
        out["compute"] = {"throttled": status["compute"].get("throttled", 0)}
    return out


def _sum_throttle(items):
    out = {k: sum(i.get(k, 0) for i in items) for k in BUDGET_KEYS}
    for kind in KINDS + ("compute",):
        present = [i[kind] for i in items if kind in i]
        if present:
            out[kind] = {k: sum(p.get(k, 0) for p in present) for k in present[0]}
    return out
