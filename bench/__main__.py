# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""python -m bench: the benchmark table, printed and written as JSON under bench/results/."""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from . import report, run, startup
from .sim import ROOT, running

RESULTS = os.path.join(ROOT, "bench", "results")
# plain: operations take L; throttled: a write budget (W13); arm-limits: ARM's and Compute's buckets (W14, W15);
# spread: operation times drawn around L (W16)
PASSES = ("plain", "throttled", "arm-limits", "spread")
# throttled (a per-minute write window) is superseded by ARM's buckets in arm-limits: it runs when asked for
DEFAULT_PASSES = "plain,arm-limits,spread"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES") or "10,100,1000",
                        help="scale-set sizes N, comma-separated (BENCH_SIZES)")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT") or 3),
                        help="runs per measurement when a run is short (BENCH_REPEAT)")
    parser.add_argument("--short-seconds", type=float, default=float(os.environ.get("BENCH_SHORT") or 30),
                        help="a run longer than this is not repeated (BENCH_SHORT)")
    parser.add_argument("--lro-seconds", type=float, default=float(os.environ.get("BENCH_LRO") or 2),
                        help="L: how long each long-running operation takes (BENCH_LRO)")
    parser.add_argument("--write-budget", default=os.environ.get("BENCH_WRITE_BUDGET") or "600",
                        help="writes per minute (N, or N/S: per S seconds) in the throttled pass; 0 skips that pass "
                             "(BENCH_WRITE_BUDGET)")
    parser.add_argument("--doc-flexible-max", type=int, default=int(os.environ.get("BENCH_DOC_FLEX_MAX") or 100),
                        help="largest Flexible N at which the documented way (3 az runs per member) is run; above "
                             "it, it is estimated (BENCH_DOC_FLEX_MAX)")
    parser.add_argument("--arm-limits", default=os.environ.get("BENCH_ARM_LIMITS") or "on",
                        help="ARM's buckets in the arm-limits pass (armsim --arm-limits: on = the documented sizes, "
                             "or reads=250/25,writes=200/10,deletes=200/10) (BENCH_ARM_LIMITS)")
    parser.add_argument("--lro-spread", type=float, default=float(os.environ.get("BENCH_LRO_SPREAD") or -1),
                        help="in the spread pass, each operation takes L +- this, drawn uniformly (seeded); default "
                             "L/2 (BENCH_LRO_SPREAD)")
    parser.add_argument("--lro-seed", type=int, default=int(os.environ.get("BENCH_LRO_SEED") or 1),
                        help="the seed of the spread pass's draws (BENCH_LRO_SEED)")
    parser.add_argument("--expert-max", type=int, default=int(os.environ.get("BENCH_EXPERT_MAX") or 100),
                        help="largest Flexible N at which the expert's script is run (arm-limits pass); "
                             "above it, it is estimated (BENCH_EXPERT_MAX)")
    parser.add_argument("--passes", default=os.environ.get("BENCH_PASSES") or DEFAULT_PASSES,
                        help=f"passes to run, comma-separated, of {', '.join(PASSES)} (BENCH_PASSES)")
    parser.add_argument("--modes", default=os.environ.get("BENCH_MODES") or ",".join(run.MODES),
                        help="orchestration modes to run, comma-separated (BENCH_MODES)")
    parser.add_argument("--scenarios", default=os.environ.get("BENCH_SCENARIOS") or "status,detach,attach",
                        help="status, and detach,attach (run together: each starts where the other ended) "
                             "(BENCH_SCENARIOS)")
    parser.add_argument("--startup-runs", type=int, default=int(os.environ.get("BENCH_STARTUP_RUNS") or 15))
    parser.add_argument("--out", default=os.environ.get("BENCH_OUT") or os.path.join(RESULTS, "latest.json"))
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    passes = [p.strip() for p in args.passes.split(",") if p.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    scenarios = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    if set(modes) - set(run.MODES) or not modes:
        parser.error("--modes: expected some of {}".format(", ".join(run.MODES)))
    if scenarios - {"status", "detach", "attach"} or not scenarios:
        parser.error("--scenarios: expected some of status, detach, attach")
    results = {"meta": _meta(args, sizes), "passes": []}
    began = time.monotonic()
    if args.startup_runs:
        run.log("measuring az vmss -h with and without the extension ...")
        results["startup"] = startup.measure(args.startup_runs)
    spread = args.lro_spread if args.lro_spread >= 0 else args.lro_seconds / 2
    for name in passes:
        if name not in PASSES:
            parser.error("--passes: unknown pass '{}'; known: {}".format(name, ", ".join(PASSES)))
        budget = args.write_budget if name == "throttled" else None
        limits = args.arm_limits if name == "arm-limits" else None
        lro = "{:g}:{:g}:{}".format(args.lro_seconds, spread, args.lro_seed) if name == "spread" else args.lro_seconds
        if (name == "throttled" and budget in ("0", "")) or (name == "arm-limits" and limits in ("0", "off")):
            continue
        # the documented Flexible way sends a write every few seconds, far below any budget or bucket: beyond the
        # plain pass it is run at the smallest N only (and estimated above it, like in the plain pass). The
        # expert's script runs in the arm-limits pass, where ARM's buckets apply to it as to us. The spread pass
        # measures our plan under uneven operation times; the baselines, one operation after another, are not run.
        doc_max = args.doc_flexible_max if name == "plain" else min([args.doc_flexible_max] + sizes)
        expert_max = args.expert_max if name == "arm-limits" else 0
        settings = run.Settings(sizes, args.repeat, args.short_seconds, doc_max, args.lro_seconds, budget, limits,
                                expert_max, modes=modes, moves=bool(scenarios & {"detach", "attach"}),
                                status="status" in scenarios, baselines=name != "spread")
        with tempfile.TemporaryDirectory(prefix="bench-sim-") as directory:
            with running(directory, lro, budget, limits) as sim:
                rows = run.run_pass(sim, settings)
        results["passes"].append({"name": name, "write_budget": budget, "arm_limits": limits, "lro_seconds": lro,
                                  "rows": run.estimate(rows)})
        results["meta"]["seconds"] = round(time.monotonic() - began)  # the whole run so far, startup included
        _write(results, args.out)  # after each pass, so that a long run leaves what it measured
    print(report.table(results))
    _write(results, args.out)
    return 0


def _meta(args, sizes):
    def text(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return None
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": text("git", "rev-parse", "--short", "HEAD"),
            "working_tree_changed": bool(text("git", "status", "--porcelain")),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.platform()},
            "sizes": sizes, "repeat": args.repeat, "short_seconds": args.short_seconds,
            "lro_seconds": args.lro_seconds, "write_budget": args.write_budget, "arm_limits": args.arm_limits,
            "lro_spread": args.lro_spread if args.lro_spread >= 0 else args.lro_seconds / 2,
            "lro_seed": args.lro_seed, "modes": args.modes, "scenarios": args.scenarios,
            "doc_flexible_max": args.doc_flexible_max, "expert_max": args.expert_max}


def _write(results, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    with open(os.path.splitext(path)[0] + ".txt", "w") as f:
        f.write(report.table(results) + "\n")


if __name__ == "__main__":
    sys.exit(main())
