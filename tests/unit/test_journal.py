# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The journal keeps a run's intent; a record for another command, or too old, is not applied."""
import datetime

from azext_vmsscrg.journal import MAX_AGE, Journal, Record

VMSS = '/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/Web'
GROUP = '/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/capacityReservationGroups/g'
NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def test_round_trip_keeps_the_intent(tmp_path):
    journal = Journal(str(tmp_path), VMSS)
    assert journal.load() is None
    record = Record('attach', GROUP, NOW, frozenset({'vm1', 'vm2'}), frozenset({'vm1'}))
    journal.save(record)
    assert journal.path.endswith('/vmsscrg/journal/s/rg/web.json')
    assert journal.load() == record
    journal.clear()
    assert journal.load() is None


def test_a_record_applies_only_to_its_own_fresh_command():
    record = Record('attach', GROUP, NOW)
    assert record.applies_to('attach', GROUP.upper(), now=NOW + MAX_AGE) is None
    assert 'days old' in record.applies_to('attach', GROUP, now=NOW + MAX_AGE + datetime.timedelta(seconds=1))
    assert 'it is for attach' in record.applies_to('detach', None, now=NOW)
    assert 'it is for attach' in record.applies_to('attach', GROUP + '2', now=NOW)


def test_an_unreadable_record_is_no_record(tmp_path):
    journal = Journal(str(tmp_path), VMSS)
    journal.save(Record('detach', None, NOW))
    with open(journal.path, 'w') as f:
        f.write('{"running": ["vm1"]}')  # written by an earlier version: no action
    assert journal.load() is None


def test_round_trip_keeps_the_capacities_zero_capacity_took(tmp_path):
    journal = Journal(str(tmp_path), VMSS)
    taken = ((GROUP + '/capacityReservations/r1', 10), (GROUP + '/capacityReservations/r2', 3))
    record = Record('detach', None, NOW, capacities=taken)
    journal.save(record)
    assert journal.load() == record
