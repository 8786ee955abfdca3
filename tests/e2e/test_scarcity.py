# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""On-demand capacity runs out: detach by deallocation cannot start the members without their reservation, so the
command retries for vmsscrg.allocation_retry_timeout, brings them back to their group, starts them there and exits
non-zero naming Azure's error; zero-capacity moves them with no restart. Installed wheel through real az; the end
state read back with stock az; the request log shows the writes."""
import pytest

from conftest import sim_up
from landscapes import SIZE, associated, capacities, crg, flexible, member, model_group, move, powers, \
    run_killed_after_writes, seed, uniform, vm_group, writes

RETRY = "2"  # seconds: the bound the tests give the allocation retry
NAMES = ["m-{}".format(n) for n in range(4)]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with sim_up(str(tmp_path_factory.mktemp("armsim-scarce"))) as sim:
        yield sim


def allocation_failures(sim):
    status, _, answer = sim.client.call("GET", "/simulator/capacity", auth=False)
    assert status == 200, answer
    return answer["allocationFailures"]


def no_capacity(sim, free=0):
    """Free on-demand machines of the size in the region: none (set after the landscape holds its machines)."""
    status, _, answer = sim.client.call("POST", "/simulator/capacity", {"pools": {"eastus:" + SIZE: free}},
                                        auth=False)
    assert status == 200, answer


def landscape(sim, rg, kind):
    if kind == "flexible":
        spec = flexible("s", members=[member(n, zone=None) for n in NAMES])
    else:
        spec = uniform("s", policy="Manual", zones=(), capacity=4)
    seed(sim, rg, [crg(zones=(), capacity=4)], [spec])
    no_capacity(sim)
    return None if kind == "uniform" else NAMES


def detach(sim, rg, *extra, expect=0):
    return move(sim, "detach", rg, "s", *extra, "--yes", expect=expect,
                env=sim.env(AZURE_VMSSCRG_ALLOCATION_RETRY_TIMEOUT=RETRY))


@pytest.mark.parametrize("kind", ["flexible", "uniform"])
def test_detach_without_capacity_brings_members_back_and_says_so(sim, kind):
    rg = "sc-back-" + kind
    members = landscape(sim, rg, kind)
    mark, failed = sim.mark(), allocation_failures(sim)
    code, _, err = detach(sim, rg, expect=None)
    assert code != 0
    assert "AllocationFailed" in err and "Partial: the detach is not done" in err and "Try again later" in err
    assert "az vmss capacity-reservation detach -g {} -n s --strategy zero-capacity --yes".format(rg) in err
    assert set(powers(sim, rg, "s", members).values()) == {"running"}
    if kind == "flexible":
        assert all(vm_group(sim, rg, n).endswith("/g") for n in NAMES)
        assert len(associated(sim, rg)) == 4
    else:
        assert model_group(sim, rg, "s").endswith("/g") and len(associated(sim, rg)) == 4
    assert capacities(sim, rg) == {"r": 4}
    sent = writes(sim, mark, rg)
    starts = [w for w in sent if w[1].endswith("/start")]
    assert [w for w in sent if w[1].endswith("/deallocate")] and len(starts) >= 3  # tried, retried, started back
    assert allocation_failures(sim) > failed


def test_regional_uniform_with_room_for_some_brings_every_instance_back_through_the_model(sim):
    """Two of four start on on-demand capacity, two cannot: a regional model changes group only while no instance
    is allocated, so the two that started are deallocated too, and all four come back to the group and run."""
    rg = "sc-some"
    landscape(sim, rg, "uniform")
    no_capacity(sim, free=2)
    code, _, err = detach(sim, rg, expect=None)
    assert code != 0 and "Partial: the detach is not done" in err and "AllocationFailed" in err
    assert set(powers(sim, rg, "s").values()) == {"running"}
    assert model_group(sim, rg, "s").endswith("/g") and len(associated(sim, rg)) == 4
    assert capacities(sim, rg) == {"r": 4}
    no_capacity(sim)


@pytest.mark.parametrize("kind", ["flexible", "uniform"])
def test_killed_after_moving_members_off_the_group_the_rerun_brings_them_back(sim, kind):
    """Killed once the first members left the group, deallocated: only the journal still knows where they came from;
    the re-run finds no capacity either and brings them back there."""
    rg = "sc-kill-" + kind
    members = landscape(sim, rg, kind)
    writes_before_start = 2 if kind == "flexible" else 3  # deallocate, clear the group (Uniform: and upgrade)
    run_killed_after_writes(sim, ["vmss", "capacity-reservation", "detach", "-g", rg, "-n", "s", "--yes"],
                            writes_before_start)
    code, _, err = detach(sim, rg, expect=None)
    assert code != 0 and "Partial: the detach is not done" in err
    assert set(powers(sim, rg, "s", members).values()) == {"running"}
    assert len(associated(sim, rg)) == 4 and capacities(sim, rg) == {"r": 4}


@pytest.mark.parametrize("kind", ["flexible", "uniform"])
def test_zero_capacity_detach_moves_them_with_no_restart(sim, kind):
    rg = "sc-zero-" + kind
    members = landscape(sim, rg, kind)
    mark = sim.mark()
    _, result, _ = detach(sim, rg, "--strategy", "zero-capacity")
    assert result["status"]["state"] == "detached"
    assert result["disruption"]["instancesStartedWithoutReservation"] == 0
    assert set(powers(sim, rg, "s", members).values()) == {"running"} and associated(sim, rg) == []
    sent = writes(sim, mark, rg)
    assert not [w for w in sent if w[1].endswith(("/deallocate", "/start"))]


@pytest.mark.parametrize("kind", ["flexible", "uniform"])
def test_dry_run_counts_the_members_started_without_a_reservation(sim, kind):
    rg = "sc-dry-" + kind
    landscape(sim, rg, kind)
    mark = sim.mark()
    _, result, err = move(sim, "detach", rg, "s", "--dry-run")
    assert result["disruption"]["instancesStartedWithoutReservation"] == 4
    assert "4 running member(s) will be started again without a capacity reservation guarantee" in err
    assert "--strategy zero-capacity moves them without a restart" in err
    assert writes(sim, mark, rg) == []


def test_attach_dry_run_counts_what_exceeds_the_reservation(sim):
    rg = "sc-dry-attach"
    seed(sim, rg, [crg(zones=(), capacity=1)], [uniform("s", policy="Manual", zones=(), capacity=3, group=None)])
    _, result, err = move(sim, "attach", rg, "s", "--crg", "g", "--dry-run")
    assert result["disruption"]["instancesStartedWithoutReservation"] == 2
    assert "2 running member(s) will be started again without a capacity reservation guarantee" in err
