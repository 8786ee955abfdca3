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
    batches = [s for s in result["steps"] if s["action"] == "deallocate"]
    # reads: the two inspections, one member list (2 pages) per deallocate and start step, and the final read
    # of each VM update that the SDK's poller makes; nothing per step beyond that
    pages = 2
    assert len(reads) <= 2 * (4 + pages) + 2 * len(batches) * pages + len(patches), len(reads)
