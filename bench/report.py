# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The benchmark's one table, and its JSON."""

HEADERS = ["pass", "scenario", "N", "ours s", "documented s", "ratio", "limit s (ops x L)", "ours/limit",
           "ours requests G/PUT/PATCH/POST", "documented requests G/PUT/PATCH/POST", "429s", "early"]


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
    ours, doc = row["ours"], row["documented"]
    if doc.get("seconds") is None:
        doc_s = "not run"
    else:
        doc_s = "{:.1f}{}".format(doc["seconds"], " estimated" if doc.get("estimated") else "")
    ratio = "{:.1f}x".format(row["ratio"]) if row.get("ratio") else "-"
    if row["scenario"] == "status":
        limit, over = "-", "-"
    else:
        if row.get("budget_limit_seconds", 0) > row["critical_path_ops"] * row["lro_seconds"]:
            limit = "{:.0f} (budget)".format(row["limit_seconds"])
        else:
            limit = "{:.0f} ({} x {:g})".format(row["limit_seconds"], row["critical_path_ops"], row["lro_seconds"])
        over = "{:.2f}x".format(row["over_limit"])
    throttle = ours.get("throttle_all_runs") or {}
    doc_throttle = doc.get("throttle_all_runs") or {}
    throttled = "-" if not throttle else "{}/{}".format(throttle.get("throttled", 0),
                                                        doc_throttle.get("throttled", 0))
    early = "-" if not throttle else "{}/{}".format(
        throttle.get("early_retries", 0) + doc_throttle.get("early_retries", 0),
        throttle.get("writes_during_backoff", 0) + doc_throttle.get("writes_during_backoff", 0))
    return [name, "{} {}".format(row["mode"], row["scenario"]), str(row["n"]),
            "{:.1f}{}".format(ours["seconds"], "" if len(ours["runs"]) > 1 else "*"), doc_s, ratio, limit, over,
            _requests(ours.get("requests")), _requests(doc.get("requests")) if not doc.get("estimated") else
            "~{} az runs".format(doc.get("invocations", "?")), throttled, early]


def _requests(r):
    if not r:
        return "-"
    return "{}/{}/{}/{}".format(r["GET"], r["PUT"], r["PATCH"], r["POST"])


def _notes(results):
    meta = results["meta"]
    out = ["L = {} s per long-running operation. Times are medians of {} run(s), except * (one run: longer than {} "
           "s).".format(meta["lro_seconds"], meta["repeat"], meta["short_seconds"]),
           "ratio = documented / ours. limit = the long-running operations that must follow one another in the plan "
           "(Uniform: deallocate, model, update-instances, start; Flexible: deallocate, update, start per batch of "
           "at most 20% of the members) x L; with a write budget, at least the time the budget needs to accept our "
           "writes (budget).",
           "documented Flexible beyond N={} (in the throttled pass: beyond the smallest N, as its writes, one every "
           "few seconds, stay far below any budget): not run, estimated from its measured time per member, times N."
           .format(meta["doc_flexible_max"])]
    for p in results["passes"]:
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
    return out
