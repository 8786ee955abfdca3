# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`status --crg` and `detach --crg`, recorded: a whole capacity reservation group."""
from scenario_base import SIZE, VmssCrgScenarioTest, crg, flexible, member, uniform


def standalone(name, group, power='running'):
    return {'name': name, 'sku': SIZE, 'zone': '1', 'capacityReservationGroup': group, 'power': power}


class GroupScenarioTest(VmssCrgScenarioTest):

    def _landscape(self):
        self.create_landscape(
            groups=[crg('g1')],
            scale_sets=[uniform('u', policy='Automatic', group='g1', capacity=2),
                        flexible('f', members=[member('f-0', group='g1'),
                                               member('f-1', group='g1', power='deallocated')])],
            vms=[standalone('vm-a', 'g1'), standalone('vm-b', 'g1', power='stopped')])

    def test_group_status(self):
        self._landscape()
        self.cmd('vmss capacity-reservation status -g {rg} --crg g1', checks=[
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('deletable', False),
            self.check('sharedWith', []),
            self.check('unreadable', []),
            self.check('reservations[].[name, sku, zone, capacity, allocated, associated, overallocated]',
                       [['r1', SIZE, '1', 10, 5, 6, False]]),  # the stopped VM is still allocated
            self.check('deletable', False),
            self.check('sort_by(scaleSets, &name)[].[name, state, orchestrationMode, upgradePolicy, modelOnGroup, '
                       'instancesOnGroup]', [['f', 'attached', 'Flexible', 'Manual', False, 2],
                                             ['u', 'attached', 'Uniform', 'Automatic', True, 2]]),
            self.check('virtualMachines[].[name, powerState]', [['vm-a', 'running'], ['vm-b', 'stopped']]),
            self.check('summary', {'scaleSets': 2, 'virtualMachines': 2, 'reservations': 1, 'unreadable': 0}),
            self.check('length(blockers)', 3),
            self.check('nextAction', 'az vmss capacity-reservation detach -g {rg} --crg g1 --yes (add --delete-group '
                                     'to delete the reservations and the group too)'),
        ])
        # by id, as a table
        result = self.cmd('vmss capacity-reservation status --crg {g1} -o table')
        self.assertIn('not deletable', result.output)
        self.assertIn('vm-b', result.output)

    def test_group_detach(self):
        self._landscape()
        # one scale set at a time: requests from several at once would be recorded in no fixed order
        self.cli_ctx.config.set_value('vmsscrg', 'group_concurrency', '1')
        self.cmd('vmss capacity-reservation detach -g {rg} --crg g1 --dry-run', checks=[
            self.check('dryRun', True),
            self.check('groupDeleted', False),
            self.check("steps[?target=='scale set u'].action", ['deallocate', 'setModelGroup', 'waitForUpgrade',
                                                                'start']),
            # standalone VMs move as the members of a scale set, --max-unavailable at a time; the stopped VM is
            # deallocated to leave the group, and not started
            self.check("steps[?target=='standalone VMs in {rg}'].[action, targets[0]]",
                       [['deallocate', 'vm-a'], ['setVmGroup', 'vm-a'], ['start', 'vm-a'],
                        ['deallocate', 'vm-b'], ['setVmGroup', 'vm-b']]),
            self.check('disruption.instancesDeallocated', 5),
        ])
        self.cmd('vmss capacity-reservation detach -g {rg} --crg g1 --yes', checks=[
            self.check('dryRun', False),
            self.check('status.summary', {'scaleSets': 0, 'virtualMachines': 0, 'reservations': 1, 'unreadable': 0}),
            self.check('deleteCommands[0]', 'az capacity reservation delete -g {rg} -c g1 -n r1 --yes'),
            self.check('deleteCommands[1]', 'az capacity reservation group delete -g {rg} -n g1 --yes'),
        ])
        self.cmd('vmss capacity-reservation detach -g {rg} --crg g1 --delete-group --yes', checks=[
            self.check('steps', []),
            self.check('groupDeleted', True),
            self.check('status', None),
        ])
