# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Large scale sets against a simulator whose operations take time: concurrency and read counts, measured
from the simulator's request log (never from timers asserted in tests)."""
import pytest

from conftest import Sim
from armsim import lifecycle
from landscapes import crg, flexible, move, seed

MEMBERS = 200


@pytest.fixture(scope="module")
def slow_sim(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("armsim-slow"))
    lifecycle.up(directory, lro_seconds=1)
    try:
        yield Sim(directory)
    finally:
        lifecycle.down(directory)


def test_flexible_members_are_detached_concurrently(slow_sim):
    # members made from the profile: one create instead of 200 (each write takes a second here)
    seed(slow_sim, "big-flex", [crg(capacity=MEMBERS)], [flexible(profile=True, capacity=MEMBERS)])
    mark = slow_sim.mark()
    _, result, _ = move(slow_sim, "detach", "big-flex", "f", "--max-unavailable", "50", "--concurrency", "64",
                        "--yes")
    assert result["status"]["state"] == "detached"
    assert {i["powerState"] for i in result["status"]["instances"]} == {"running"}
    log = slow_sim.requests(mark)["requests"]
    deallocations = sorted(e["start"] for e in log if e["method"] == "POST" and e["path"].endswith("/deallocate"))
    assert len(deallocations) == MEMBERS
    # each deallocation takes at least a second; sequential work would start at most one per second
    assert sum(1 for t in deallocations if t < deallocations[0] + 1.0) >= 16
    reads = [e for e in log if e["method"] == "GET" and "/operations/" not in e["path"]]
    patches = [e for e in log if e["method"] == "PATCH"]
    views = [e for e in reads if e["path"].endswith("/instanceView")]
    # reads: the two inspections; each member read back alone after each of its power operations (never a
    # list of every member per batch); and the final read of each VM update that the SDK's poller makes
    pages = 2
    assert len(views) == 2 * MEMBERS
    # reads of the group and of autoscale settings do not grow with the members: the inspections, the autoscale
    # check and the wait for the group's association lists to show the change
    fixed = [e["path"] for e in reads if "/capacityreservationgroups" in e["path"].lower()
             or "/autoscalesettings" in e["path"].lower()]
    assert len(fixed) <= 12, fixed
    assert len(reads) - len(fixed) <= 2 * (4 + pages) + len(views) + len(patches), len(reads)
    # an operation is polled after the Retry-After its answer gave (which it outlasts only under heavy load),
    # never at once; and a start or deallocate is not read again through its Location
    starts = [e for e in log if e["method"] == "POST" and e["path"].endswith("/start")]
    operations = len(deallocations) + len(patches) + len(starts) + sum(1 for e in log if e["method"] == "PUT")
    polls = [e for e in log if "/operations/" in e["path"]]
    assert len({e["path"] for e in polls}) == operations and len(polls) <= operations * 1.02, len(polls)
