# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The benchmark's one table, and its JSON."""

HEADERS = ["pass", "scenario", "N", "ours s", "documented s", "ratio", "expert s", "expert ratio",
           "limit s (ops x L)", "ours/limit", "bucket floor s R/W/D", "ours reads/s writes/s",
           "ours requests G/PUT/PATCH/POST", "documented requests G/PUT/PATCH/POST", "429s", "429s R/W/D/C",
           "early"]


def table(results):
    rows = []
    for p in results["passes"]:
        for row in p["rows"]:
            rows.append(_cells(p["name"], row))
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(HEADERS)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(HEADERS, widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    notes = _notes(results)
    return "\n".join(lines + [""] + notes)


def _cells(name, row):
    ours, doc, expert = row["ours"], row["documented"], row.get("expert")
    doc_s = _seconds(doc)
    ratio = "{:.1f}x".format(row["ratio"]) if row.get("ratio") else "-"
    if expert is None:
        expert_s, expert_ratio = "-", "-"
    else:
        expert_s = "= documented" if expert.get("same_as") else _seconds(expert)
        expert_ratio = "{:.2f}x".format(row["expert_ratio"]) if row.get("expert_ratio") else "-"
    if row["scenario"] == "status":
        limit, over = "-", "-"
    else:
        if row.get("budget_limit_seconds", 0) > row["critical_path_ops"] * row["lro_seconds"]:
            limit = "{:.0f} ({})".format(row["limit_seconds"], "budget" if name == "throttled" else "write floor")
        else:
            limit = "{:.0f} ({} x {:g})".format(row["limit_seconds"], row["critical_path_ops"], row["lro_seconds"])
        over = "{:.2f}x".format(row["over_limit"])
    throttle = ours.get("throttle_all_runs") or {}
    doc_throttle = doc.get("throttle_all_runs") or {}
    throttled = "-" if not throttle else "{}/{}".format(_throttled(throttle), _throttled(doc_throttle))
    early = "-" if not throttle else "{}/{}".format(_early(throttle) + _early(doc_throttle),
                                                    throttle.get("writes_during_backoff", 0)
                                                    + doc_throttle.get("writes_during_backoff", 0))
    floor = row.get("bucket_floor_seconds")
    floor = "{:g}/{:g}/{:g}".format(floor["reads"], floor["writes"], floor["deletes"]) if floor else "-"
    rates = ours.get("per_second")
    rates = "{:g} {:g}".format(rates["reads"], rates["writes"]) if rates else "-"
    by = (ours.get("requests") or {}).get("429_by") or {}
    by_kind = "/".join(str(by.get(k, 0)) for k in ("reads", "writes", "deletes", "compute"))
    return [name, "{} {}".format(row["mode"], row["scenario"]), str(row["n"]),
            "{:.1f}{}".format(ours["seconds"], "" if len(ours["runs"]) > 1 else "*"), doc_s, ratio, expert_s,
            expert_ratio, limit, over, floor, rates,
            _requests(ours.get("requests")), _requests(doc.get("requests")) if not doc.get("estimated") else
            "~{} az runs".format(doc["invocations"]) if doc.get("invocations") else "-", throttled, by_kind, early]


def _seconds(measured):
    if measured.get("seconds") is None:
        return "not run"
    return "{:.1f}{}".format(measured["seconds"], " estimated" if measured.get("estimated") else "")


def _throttled(counters):
    """Throttled answers: the write budget's, or ARM's buckets' and Compute's."""
    return counters.get("throttled", 0) + sum((counters.get(k) or {}).get("throttled", 0)
                                              for k in ("reads", "writes", "deletes", "compute"))


def _early(counters):
    return counters.get("early_retries", 0) + sum((counters.get(k) or {}).get("early_retries", 0)
                                                  for k in ("reads", "writes", "deletes"))


def _requests(r):
    if not r:
        return "-"
    return "{}/{}/{}/{}".format(r["GET"], r["PUT"], r["PATCH"], r["POST"])


def _notes(results):
    meta = results["meta"]
    first = ("L = {} s per long-running operation. Times are medians of {} run(s) ({} for status at the largest N), "
             "except * (one run: longer than {} s).")
    out = [first.format(meta["lro_seconds"], meta["repeat"], 3 * meta["repeat"], meta["short_seconds"]),
           "ratio = documented / ours. limit = the long-running operations that must follow one another in the plan "
           "(Uniform: deallocate, model, update-instances, start; Flexible: deallocate, update, start per batch of "
           "at most 20% of the members) x L; with a write budget, at least the time the budget needs to accept our "
           "writes (budget).",
           "documented Flexible beyond N={} (in the other passes: beyond the smallest N, as its writes, one every "
           "few seconds, stay far below any budget or bucket): not run, estimated from its measured time per member, "
           "times N. The spread pass runs neither the documented way nor the expert's script beside our detach and "
           "attach.".format(meta["doc_flexible_max"]),
           "expert = the script an experienced operator writes (Flexible: az vm deallocate --ids ... --no-wait; az vm "
           "wait --ids ... until deallocated; az vm update --capacity-reservation-group --no-wait per member, 4 at a "
           "time, as the pinned az fails az vm update with several --ids; az vm wait --ids ... --updated; az vm "
           "start --ids ... --no-wait; then the time until every member runs); Uniform: the documented commands. Run "
           "at N <= {} in the arm-limits pass, estimated per member above. expert ratio = expert / ours."
           .format(meta.get("expert_max", "-")),
           "bucket floor = per kind (reads/writes/deletes), (requests - bucket) / refill rate: the least time ARM's "
           "buckets (the pass's --arm-limits, else the documented 250/25, 200/10, 200/10) need to accept our "
           "requests. reads/s writes/s: ours, over the run. 429s R/W/D/C: ours, refused by ARM's read, write, delete "
           "buckets and Compute's limits (typical run)."]
    for p in results["passes"]:
        if p.get("arm_limits"):
            out.append("{}: armsim --arm-limits {} (ARM's token buckets per kind and Compute's per-operation limits; "
                       "429 + Retry-After beyond); every run starts with full buckets; limit = the larger of the "
                       "critical path and the write floor. early = requests re-sent before their Retry-After "
                       "(all runs).".format(p["name"], p["arm_limits"]))
        if p.get("name") == "spread":
            out.append("{}: each operation's duration drawn uniformly from --lro-seconds {} (MEAN:SPREAD:SEED); "
                       "limit uses the mean.".format(p["name"], p["lro_seconds"]))
        if p.get("write_budget"):
            out.append("{}: write budget {} (writes per minute, or N/S: per S seconds; 429 + Retry-After beyond it); "
                       "every run starts with the whole budget. 429s = throttled answers, ours/"
                       "documented; early = requests re-sent before their own Retry-After / writes sent while an "
                       "announced Retry-After had not elapsed (all runs).".format(p["name"], p["write_budget"]))
    startup = results.get("startup")
    if startup:
        out.append("`{}`: {} ms without the extension, {} ms with it: +{} ms (medians of {} alternated runs)."
                   .format(startup["command"], startup["without"], startup["with"], startup["added_ms"],
                           startup["runs"]))
    if meta.get("seconds") is not None:
        out.append("This run took {:.0f} min on {} CPU(s) (commit {}).".format(
            meta["seconds"] / 60, meta.get("machine", {}).get("cpus", "?"), meta.get("commit", "?")))
    return out
