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
    reads = [e for e in log if e["method"] == "GET"]
    # reads of the group and of autoscale settings do not grow with the members: the inspections, the autoscale
    # check and the wait for the group's association lists to show the change
    fixed = [e["path"] for e in reads if "/capacityreservationgroups" in e["path"].lower()
             or "/autoscalesettings" in e["path"].lower()]
    assert len(fixed) <= 12, fixed
    # no member is read alone and no member's operation is polled (only the reservation's and the scale set's
    # writes are): each batch is watched in the paged list of the members (two pages here), so the reads,
    # verification included, stay under one per member
    assert not [e for e in reads if e["path"].endswith("/instanceView")]
    polls = [e for e in reads if "/operations/" in e["path"]]
    assert len(polls) <= sum(1 for e in log if e["method"] == "PUT" or "/capacityreservations/" in e["path"].lower()
                             and e["method"] == "PATCH"), polls
    assert len(reads) <= MEMBERS // 2, len(reads)


def test_a_flexible_attach_reads_at_most_once_per_member(slow_sim):
    n = 50
    seed(slow_sim, "flex-50", [crg(capacity=n)], [flexible(profile=True, capacity=n, group=None)])
    mark = slow_sim.mark()
    _, result, _ = move(slow_sim, "attach", "flex-50", "f", "--crg", "g", "--yes")
    assert result["status"]["state"] == "attached"
    log = slow_sim.requests(mark)["requests"]
    moved = [e for e in log if e["method"] == "PATCH" and "/virtualmachines/" in e["path"].lower()]
    assert len(moved) == n  # each member's own operation
    # the whole run: inspection, every batch's watch, verification
    reads = [e for e in log if e["method"] == "GET"]
    assert len(reads) <= n, len(reads)
