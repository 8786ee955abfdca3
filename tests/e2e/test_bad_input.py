# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Bad input: each case exits non-zero with an Azure CLI error class and a message that names what to fix,
and the simulator's request log shows that nothing was written."""
import subprocess

import pytest

from conftest import AZ, Sim
from armsim import lifecycle
from landscapes import crg, seed, uniform, writes

RG = "bad-rg"
FOREIGN = "/subscriptions/00000000-0000-0000-0000-0000000000ff/resourceGroups/x/providers/Microsoft.Compute/" \
          "capacityReservationGroups/theirs"


@pytest.fixture(scope="module")
def sim(az_sim):
    scale_sets = [uniform(name="u", group=None), uniform(name="reg", zones=(), group=None)]
    seed(az_sim, RG, [crg(), crg("regional", zones=())], scale_sets, vms=[{"name": "vm1", "zone": "1"}])
    az_sim.seed({"resourceGroups": [{"name": "bad-west", "location": "westus",
                                     "capacityReservationGroups": [crg("west")]}]})
    return az_sim


def group_id(sim, rg, name, kind="capacityReservationGroups"):
    return "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/{}/{}".format(sim.sub, rg, kind, name)


# (args after `az vmss capacity-reservation`, error class shown by --debug or None for parser errors, text).
# The CLI's parser maps its errors to azclierror classes too (AzCliCommandParser.error); --debug shows that they
# are printed by azclierror but not which class, so for those the test checks that, and exit code 2.
CASES = [
    (["detach", "-g", RG, "-n", "bad name!"], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "a" * 65], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "../../etc/passwd"], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "u;rm -rf /"], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "u%2F..%2Fv"], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "-u"], None, "--name"),
    (["status", "-g", RG, "-n", "$(whoami)"], "InvalidArgumentValueError", "--name"),
    (["detach", "-g", RG, "-n", "u", "--strategy", "delete"], None, "--strategy"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "0"], "InvalidArgumentValueError", "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "101"], "InvalidArgumentValueError", "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "-5"], "InvalidArgumentValueError", "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "abc"], None, "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "2.5"], None, "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--concurrency", "0"], "InvalidArgumentValueError", "--concurrency"),
    (["detach", "-g", RG, "-n", "u", "--concurrency", "1000"], "InvalidArgumentValueError", "--concurrency"),
    (["detach", "-g", RG, "-n", "u", "--force"], "ArgumentUsageError", "--force"),
    (["detach", "-g", RG, "-n", "u", "--strategy", "zero-capacity", "--leave-deallocated"], "ArgumentUsageError",
     "--leave-deallocated"),
    (["detach", "-g", RG], None, "--name"),
    (["detach", "-n", "u"], None, "--resource-group"),
    (["detach", "-g", RG, "-n", "u", "--bogus"], None, "--bogus"),
    (["detach", "-g", "no-such-rg", "-n", "u", "--yes"], "ResourceNotFoundError", "no-such-rg"),
    (["detach", "-g", RG, "-n", "missing", "--yes"], "ResourceNotFoundError", "missing"),
    (["detach", "-g", RG, "-n", "u"], "NoTTYError", "--yes"),  # no terminal and no --yes (the plan is not empty)
    (["attach", "-g", RG, "-n", "u"], None, "--capacity-reservation-group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "bad name!"], "InvalidArgumentValueError", "--capacity-reservation"),
    (["attach", "-g", RG, "-n", "u", "--crg", "'; DROP TABLE groups; --"], "InvalidArgumentValueError",
     "--capacity-reservation-group"),
    (["attach", "-g", RG, "-n", "u", "--crg", ""], "InvalidArgumentValueError", "--capacity-reservation-group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "/subscriptions/x"], "InvalidArgumentValueError",
     "--capacity-reservation-group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{vm_id}"], "InvalidArgumentValueError",
     "not the id of a capacity reservation group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{reservation_id}"], "InvalidArgumentValueError",
     "not the id of a capacity reservation group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "missing", "--yes"], "ResourceNotFoundError", "missing"),
    (["attach", "-g", RG, "-n", "u", "--crg", FOREIGN, "--yes"], "UnclassifiedUserFault", "theirs"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{west_id}", "--yes"], "ValidationError", "same region"),
    (["attach", "-g", RG, "-n", "reg", "--crg", "g", "--yes"], "ValidationError", "regional"),
    (["attach", "-g", RG, "-n", "u", "--crg", "regional", "--yes"], "ValidationError", "regional"),
    (["attach", "-g", RG, "-n", "u", "--crg", "g", "--max-unavailable", "x"], None, "--max-unavailable"),
    (["attach", "-g", RG, "-n", "u", "--crg", "g", "--strategy", "zero-capacity"], None, "--strategy"),
    # hostile resource group names: the SDK would put them in the request path as they are
    (["detach", "-g", RG + "/providers", "-n", "u", "--yes"], "InvalidArgumentValueError", "--resource-group"),
    (["status", "-g", "../" + RG, "-n", "u"], "InvalidArgumentValueError", "--resource-group"),
    (["attach", "-g", "r" * 91, "-n", "u", "--crg", "g", "--yes"], "InvalidArgumentValueError", "--resource-group"),
    (["detach", "-g", RG + "?api-version=1", "-n", "u", "--yes"], "InvalidArgumentValueError", "--resource-group"),
    (["status", "-g", RG, "-n", "\uff55"], "InvalidArgumentValueError", "--name"),  # a fullwidth u
    # wrong resource types
    (["detach", "-g", RG, "-n", "vm1", "--yes"], "ResourceNotFoundError", "'vm1' is a virtual machine"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{vmss_id}", "--yes"], "InvalidArgumentValueError",
     "not the id of a capacity reservation group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{rg_id}", "--yes"], "InvalidArgumentValueError",
     "not the id of a capacity reservation group"),
    (["attach", "-g", RG, "-n", "u", "--crg", "{group_id}/../../virtualMachines/vm1", "--yes"],
     "InvalidArgumentValueError", "not the id of a capacity reservation group"),
    # flags of the other command, or values outside their type
    (["detach", "-g", RG, "-n", "u", "--crg", "g", "--yes"], None, "--crg"),
    (["attach", "-g", RG, "-n", "u", "--crg", "g", "--force", "--yes"], None, "--force"),
    (["detach", "-g", RG, "-n", "u", "--max-unavailable", "50%", "--yes"], None, "--max-unavailable"),
    (["detach", "-g", RG, "-n", "u", "--strategy", "", "--yes"], None, "--strategy"),
    (["attach", "-g", RG, "-n", "u", "--crg", "g", "--leave-deallocated", "maybe", "--yes"], None,
     "--leave-deallocated"),
]


@pytest.mark.parametrize("args, error_class, text", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_refused_before_any_write(sim, args, error_class, text):
    args = [a.format(vm_id=group_id(sim, RG, "u", "virtualMachines"),
                     reservation_id=group_id(sim, RG, "g") + "/capacityReservations/r1",
                     west_id=group_id(sim, "bad-west", "west"), group_id=group_id(sim, RG, "g"),
                     vmss_id=group_id(sim, RG, "u", "virtualMachineScaleSets"),
                     rg_id="/subscriptions/{}/resourceGroups/{}".format(sim.sub, RG)) for a in args]
    if args[:1] == ["detach"] and "--yes" not in args and "-n" in args and args[args.index("-n") + 1] == "u":
        # make sure a plan exists, so the missing --yes is what stops it
        sim.az("vmss", "update", "-g", RG, "-n", "u", "--capacity-reservation-group", "g")
    mark = sim.mark()
    code, _, err = sim.az("vmss", "capacity-reservation", *args, "--debug", expect=None)
    message = "\n".join(line for line in err.splitlines() if line.startswith("ERROR") or "ERROR:" in line or
                        text in line)
    assert code != 0, err[-2000:]
    assert text in err, message or err[-2000:]
    assert "cli.azure.cli.core.azclierror" in err, message  # printed as an Azure CLI error
    if error_class:
        assert error_class in err, message
    else:
        # a parser error (2), or core's check for --name or --ids, a plain CLIError (1), as `az vmss show -g rg` does
        assert code in (1, 2), message
    assert writes(sim, mark, RG) == [] and writes(sim, mark, "bad-west") == []


@pytest.fixture(scope="module")
def slow_sim(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("armsim-busy"))
    # the others' operation must outlast az's start-up, several seconds on a loaded machine (at 3 it did not)
    lifecycle.up(directory, lro_seconds=8)
    try:
        yield Sim(directory)
    finally:
        lifecycle.down(directory)


def start_busy(sim, rg, busy):
    """An operation of someone else's on scale set u, still running when this returns."""
    seed(sim, rg, [crg()], [uniform(capacity=2)])
    if busy == "model update running":
        sim.az("vmss", "update", "-g", rg, "-n", "u", "--set", "tags.busy=yes", "--no-wait")
    else:
        action = "deallocate" if busy == "instances deallocating" else "stop"
        subprocess.run([AZ, "vmss", action, "-g", rg, "-n", "u", "--no-wait"], env=sim.env(), check=True,
                       capture_output=True)


@pytest.mark.parametrize("busy", ["model update running", "instances deallocating", "instances stopping"])
def test_operation_running_on_the_scale_set_is_refused(slow_sim, busy):
    rg = "busy-" + busy.split()[1]
    start_busy(slow_sim, rg, busy)
    mark = slow_sim.mark()
    # waiting for it is bounded by vmsscrg.settle_timeout (here: not at all)
    code, _, err = slow_sim.az("vmss", "capacity-reservation", "detach", "-g", rg, "-n", "u", "--yes", "--debug",
                               expect=None, env=slow_sim.env(AZURE_VMSSCRG_SETTLE_TIMEOUT="0"))
    assert code != 0 and "another operation is running" in err and "az vmss wait" in err
    assert "ValidationError" in err and "vmsscrg.settle_timeout" in err
    assert writes(slow_sim, mark, rg) == []


def test_run_waits_for_the_running_operation_then_goes_on(slow_sim):
    start_busy(slow_sim, "busy-wait", "instances deallocating")
    mark = slow_sim.mark()
    _, result, err = slow_sim.az("vmss", "capacity-reservation", "detach", "-g", "busy-wait", "-n", "u", "--yes")
    assert "waiting up to 900 seconds for that operation to finish" in err
    assert result["status"]["state"] == "detached"
    # nothing was written before the deallocation that was running had ended
    log = slow_sim.requests(mark)["requests"]
    first_write = min(e["start"] for e in log if e["method"] in ("PUT", "PATCH", "POST"))
    reads = [e for e in log if e["method"] == "GET" and "/virtualMachines" in e["path"] and e["start"] < first_write]
    assert len(reads) >= 2
