# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Conformance: replay real Azure recordings against armsim and compare every served answer.

The recordings (../shared/reference/azure-recordings/*.yaml) are read in place. Per served request the
status code, the set of response field paths, and the presence of the long-running-operation headers
must match the recording, except for the differences listed, with a reason each, in ALLOWED below.
See conformance_replay.py for how requests are mapped onto the simulator and prerequisites seeded.
"""
import fnmatch
import os
import re

import pytest

from conftest import Sim, start_serve
from conformance_replay import RECORDINGS, Replay, recordings

pytestmark = pytest.mark.skipif(not os.path.isdir(RECORDINGS),
                                reason="reference recordings not found at " + os.path.normpath(RECORDINGS))

# (recording glob, kind, field path regex, reason). kind: status | missing | extra | missing header | extra header.
# A path regex must match the whole path. Every entry must be used by some recording (test_allowlist_is_used).
ALLOWED = [
    # --- fields of api-versions newer than the recording's (W4: armsim answers in the 2024-11-01 shapes plus
    #     fields later versions add) ---
    ("test_capacity_reservation_[ls]*", "extra", r"properties\.reservationType",
     "W4: returned from api-version 2026-04-01 (test_capacity_reservation_operations #1); these recordings "
     "use 2024-07-01"),
    ("test_capacity_reservation_*", "extra", r"(value\[\]\.)?etag",
     "W4: a reservation's body carries etag from api-version 2026-04-01 (test_capacity_reservation_operations "
     "#3, #9); these answers are 2022-08-01 to 2024-11-01"),
    ("test_vm_*", "extra", r"properties\.instanceView\.isVMInStandbyPool",
     "W4: a 2024-11-01 field (api-examples VirtualMachine_Get_InstanceView.json); recorded at 2020-06-01 and "
     "2024-07-01"),
    ("test_vmss_vms.yaml", "extra", r"value\[\]\.properties\.resilientVMDeletionStatus",
     "W4: a 2024-07-01 field (the instance GET #14 has it); the instance list #13 was recorded at 2023-09-01"),
    ("test_vm_stop_start.yaml", "extra",
     r"etag|properties\.timeCreated|properties\.storageProfile\.osDisk\.deleteOption",
     "W4: recorded at api-version 2020-06-01, before VMs carried etag, timeCreated and the OS disk's deleteOption "
     "(2024-07-01 recordings do: test_vm_vmss_update_ultra_ssd_enabled #13)"),
    ("test_vmss_rolling_upgrade.yaml", "extra",
     r"etag|properties\.(orchestrationMode|platformFaultDomainCount|timeCreated|virtualMachineProfile\.timeCreated|"
     r"virtualMachineProfile\.storageProfile\.osDisk\.osType)",
     "W4: recorded at api-version 2020-06-01, before scale sets carried these (2024-07-01 recordings do: "
     "test_vm_vmss_update_ultra_ssd_enabled #44)"),
    ("test_vmss_rolling_upgrade.yaml", "extra header", "azure-asyncnotification",
     "W6: in 2020 Compute left Azure-AsyncNotification off POST actions; every 2024 recording has it on them"),
    # --- not modelled ---
    ("test_vmss_disk_encryption_e2e.yaml", "missing",
     r"value\[\]\.properties\.instanceView\.(extensions|disks\[\]\.encryptionSettings|vmAgent\.extensionHandlers\[\])",
     "armsim does not run VM extensions (here Azure Disk Encryption): no extension or encryption status"),
    # --- the recording's environment ---
    ("*", "missing", r"tags\.(Creator|DateCreated)",
     "a tagging policy of the recording's subscription added these to the resource group between two GETs"),
]

USED = set()  # indices of the ALLOWED entries some difference needed


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """One simulator at the default settings: Azure's answers (201/202 and polling, W6) are the default."""
    directory = str(tmp_path_factory.mktemp("armsim-conformance"))
    proc = start_serve(directory)
    try:
        yield Sim(directory, proc)
    finally:
        proc.terminate()
        proc.wait(10)


def allow(recording, kind, detail):
    for n, (glob, k, pattern, _) in enumerate(ALLOWED):
        if k == kind and fnmatch.fnmatch(recording, glob) and re.fullmatch(pattern, detail):
            USED.add(n)
            return True
    return False


@pytest.fixture(scope="module")
def replays(sim):
    """Every recording replayed once, on a simulator reset in between: {name: Replay}."""
    out = {}
    for name in recordings():
        sim.reset()
        out[name] = Replay(sim, name).run(allow)
    return out


@pytest.mark.parametrize("name", recordings())
def test_recording(replays, name):
    replay = replays[name]
    assert not replay.unclassified, "requests neither served nor deliberately skipped: {}".format(
        replay.unclassified)
    assert not replay.differences, "{}: {} difference(s) from Azure:\n{}".format(
        name, len(replay.differences), "\n".join(str(d) for d in replay.differences))


def test_summary(replays):
    """Every recording was read, every served request sent; skips are only the deliberate kinds."""
    served = sum(len(r.served) for r in replays.values())
    sent = sum(r.sent for r in replays.values())
    compared = sum(r.compared for r in replays.values())
    skipped = {}
    for r in replays.values():
        for reason, n in r.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + n
    print("\nconformance: {} recordings, {} served requests, {} sent, {} compared (the rest are polls the "
          "simulator had already finished), skipped by reason: {}".format(
              len(replays), served, sent, compared, skipped))
    assert len(replays) == len(recordings()) and sent == served > 0
    assert set(skipped) <= {"ARM template deployment", "image lookup", "network resource", "key vault",
                            "generic resource query", "non-ARM host"}


def test_allowlist_is_used(replays):
    unused = [ALLOWED[n] for n in range(len(ALLOWED)) if n not in USED]
    assert not unused, "allowlist entries no recording needs any more (remove them): {}".format(unused)
