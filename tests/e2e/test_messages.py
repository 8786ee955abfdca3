# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What a user reads, through real az and the installed wheel: progress on stderr, refusals that name the real
problem and one way forward, the dry-run's steps in order, and how to give back zero-capacity's reservations."""
import re

from landscapes import (capacities, crg, flexible, member, move, run_killed_after_writes, run_to_file, seed, uniform,
                        writes)


def test_progress_to_a_file_is_plain_lines_and_only_show_errors_prints_nothing(az_sim, tmp_path):
    seed(az_sim, 'ms-prog', [crg()], [uniform(), uniform(name='q')])
    code, err = run_to_file(az_sim, tmp_path, 'vmss', 'capacity-reservation', 'detach', '-g', 'ms-prog', '-n', 'u',
                            '--yes')
    assert code == 0, err
    assert '\r' not in err and '\x1b' not in err, repr(err)
    lines = err.splitlines()
    steps = [line for line in lines if re.match(r'^\[\d+:\d\d\] Step \d/4: ', line)]
    assert [s.split(': ', 1)[1] for s in steps] == [
        'deallocate 3 members', "remove the scale set's model from its group",
        'upgrade 3 instances to the latest model', 'start 3 members'], err
    assert re.match(r'^\[\d+:\d\d\] Done: 4 steps\.$', lines[-1]), err
    # warnings: the CLI's own notice that the command group is in preview, and the risk of starting members again
    # without a reservation; no step line is a warning
    assert [line for line in lines if 'WARNING' in line] == [
        line for line in lines if 'is in preview' in line or 'without a capacity reservation guarantee' in line], err
    assert '%' not in err and 'Finished' not in err, err

    code, err = run_to_file(az_sim, tmp_path, 'vmss', 'capacity-reservation', 'detach', '-g', 'ms-prog', '-n', 'q',
                            '--yes', '--only-show-errors')
    assert code == 0 and err == ''


def test_mixed_zone_flexible_set_names_the_member_that_does_not_fit(az_sim):
    members = [member('z1'), member('z2', zone='2'), member('nozone', zone=None, group=None)]
    seed(az_sim, 'ms-mixed', [crg('zonal', zones=('1', '2')), crg('regional', zones=())],
         [flexible(members=[dict(m, capacityReservationGroup=None) for m in members])])
    mark = az_sim.mark()
    code, _, err = move(az_sim, 'attach', 'ms-mixed', 'f', '--crg', 'zonal', '--yes', expect=None)
    assert code != 0 and "Member(s) nozone of scale set 'f' have no zone" in err and "'zonal' is zonal (1, 2)" in err
    assert 'has no reservation' not in err and 'capacity reservation create' not in err, err
    assert 'delete nozone (or re-create them in a zone)' in err, err

    code, _, err = move(az_sim, 'attach', 'ms-mixed', 'f', '--crg', 'regional', '--yes', expect=None)
    assert code != 0 and 'Member(s) z1, z2 of scale set' in err and 'are in zone(s) 1, 2' in err, err
    assert 'the scale set is zonal' not in err and 'delete z1, z2 (or re-create them without a zone)' in err, err
    assert writes(az_sim, mark) == []


def test_ephemeral_set_on_a_shared_group_gets_one_way_forward(az_sim):
    others = [{'name': 'other{}'.format(n), 'zone': '1', 'capacityReservationGroup': 'g'} for n in range(12)]
    seed(az_sim, 'ms-eph', [crg(capacity=20)], [uniform(ephemeralOsDisk=True)], vms=others)
    mark = az_sim.mark()
    code, _, err = move(az_sim, 'detach', 'ms-eph', 'u', '--yes', expect=None)
    assert code != 0 and 'ephemeral OS disk' in err and '--strategy zero-capacity --force' in err, err
    assert 'and 2 more' in err, err  # 12 other machines, 10 named
    code, _, err = move(az_sim, 'detach', 'ms-eph', 'u', '--strategy', 'zero-capacity', '--yes', expect=None)
    assert code != 0 and 'Add --force' in err and '--strategy deallocate is not possible' in err, err
    assert 'Use --strategy deallocate' not in err and 'and 2 more' in err, err
    assert writes(az_sim, mark) == []

    _, result, err = move(az_sim, 'detach', 'ms-eph', 'u', '--strategy', 'zero-capacity', '--force', '--yes')
    give_back = 'az capacity reservation update -g ms-eph -c g -n r1 --capacity 20'
    assert result['capacityToGiveBack'] == [{'reservation': result['steps'][0]['targets'][0], 'previousCapacity': 20,
                                             'command': give_back}]
    assert result['steps'][0]['previousCapacity'] == 20 and give_back in err
    assert capacities(az_sim, 'ms-eph') == {'r1': 0}
    az_sim.az(*give_back.split()[1:])
    assert capacities(az_sim, 'ms-eph') == {'r1': 20}


def test_a_missing_group_is_one_error(az_sim):
    seed(az_sim, 'ms-missing', [], [uniform(group=None)])
    code, _, err = move(az_sim, 'attach', 'ms-missing', 'u', '--crg', 'nope', '--yes', expect=None)
    errors = [line for line in err.splitlines() if line.startswith(('ERROR', 'WARNING')) and 'preview' not in line]
    assert code != 0 and len(errors) == 1 and errors[0].startswith('ERROR:') and 'nope' in errors[0], err
    assert 'was not found' in errors[0] and 'does not exist' not in err


def test_dry_run_lists_steps_in_order_and_the_stopped_members_left_deallocated(az_sim):
    seed(az_sim, 'ms-dry', [crg()], [uniform(capacity=4, power={'1': 'stopped', '2': 'deallocated'})])
    _, result, _ = move(az_sim, 'detach', 'ms-dry', 'u', '--dry-run')
    assert [s['action'] for s in result['steps']] == ['deallocate', 'setModelGroup', 'upgradeInstances', 'start']
    assert result['disruption']['instancesLeftDeallocated'] == ['1']
    _, table, _ = move(az_sim, 'detach', 'ms-dry', 'u', '--dry-run', '-o', 'table')
    rows = table.splitlines()[2:]
    assert [row.split()[:2] for row in rows] == [['1', 'deallocate'], ['2', 'setModelGroup'],
                                                 ['3', 'upgradeInstances'], ['4', 'start']], table
    assert 'state:' not in table and 'Nothing to do' not in table


def test_zero_capacity_killed_then_rerun_still_says_how_to_give_capacity_back(az_sim):
    seed(az_sim, 'ms-zkill', [crg(capacity=7)], [uniform()])
    args = ['vmss', 'capacity-reservation', 'detach', '-g', 'ms-zkill', '-n', 'u', '--strategy', 'zero-capacity',
            '--yes']
    run_killed_after_writes(az_sim, args, 1)  # killed once the reservation was set to 0
    assert capacities(az_sim, 'ms-zkill') == {'r1': 0}
    _, result, err = az_sim.az(*args)
    give_back = 'az capacity reservation update -g ms-zkill -c g -n r1 --capacity 7'
    assert [item['command'] for item in result['capacityToGiveBack']] == [give_back] and give_back in err
