# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The options the lifecycle scenarios leave at their defaults: --max-unavailable (batch size) and
--leave-deallocated on attach and on detach (four running Flexible members moved half at a time, and left
deallocated afterwards), and --force with --strategy zero-capacity (a reservation another VM uses).

Members are moved one by one within a batch (--concurrency 1) so that the recorded order of their requests is the
same at every recording.
"""
from azure.cli.core.azclierror import ValidationError

from scenario_base import VmssCrgScenarioTest, crg, flexible, member

MEMBERS = ['f-0', 'f-1', 'f-2', 'f-3']


class OptionsScenarioTest(VmssCrgScenarioTest):

    def _landscape(self):
        self.create_landscape(groups=[crg('g1'), crg('g2')],
                              scale_sets=[flexible('f', members=[member(name, group='g1') for name in MEMBERS])])

    def test_detach_half_at_a_time_leaving_members_deallocated(self):
        self._landscape()
        self.cmd('vmss capacity-reservation detach -g {rg} -n f --max-unavailable 50 --leave-deallocated '
                 '--concurrency 1 --yes', checks=[
                     # two batches of two, each deallocated and cleared, none started again
                     self.check('steps[].action', ['deallocate', 'setVmGroup'] * 2),
                     self.check('steps[].batch', ['1/2', '1/2', '2/2', '2/2']),
                     self.check('steps[].count', [2, 2, 2, 2]),
                     self.check('disruption.instancesDeallocated', 4),
                     self.check('disruption.instancesStartedAgain', 0),
                     self.check('status.state', 'detached'),
                     self.check('status.instances[].powerState', ['deallocated'] * 4),
                 ])
        self.cmd('vm show -g {rg} -n f-3 -d', checks=[
            self.check('capacityReservation.capacityReservationGroup', None),
            self.check('powerState', 'VM deallocated'),
        ])

    def test_attach_half_at_a_time_leaving_members_deallocated(self):
        self._landscape()
        self.cmd('vmss capacity-reservation attach -g {rg} -n f --crg g2 --max-unavailable 50 --leave-deallocated '
                 '--concurrency 1 --yes', checks=[
                     self.check('steps[].action', ['deallocate', 'setVmGroup'] * 2),
                     self.check('steps[].batch', ['1/2', '1/2', '2/2', '2/2']),
                     self.check('disruption.instancesStartedAgain', 0),
                     self.check('status.state', 'attached'),
                     self.check('status.capacityReservationGroup', '{g2}', case_sensitive=False),
                     self.check('status.instances[].powerState', ['deallocated'] * 4),
                 ])
        self.cmd('capacity reservation group show -g {rg} -n g2 --instance-view', checks=[
            self.check('length(virtualMachinesAssociated)', 4),
        ])

    def test_zero_capacity_force_takes_a_shared_reservation(self):
        self.create_landscape(groups=[crg('g1', capacity=4)],
                              scale_sets=[flexible('f', members=[member(name, group='g1') for name in MEMBERS[:2]])],
                              vms=[member('bystander', group='g1')])
        # the reservation also guarantees capacity to 'bystander': refused without --force, naming it, before any
        # write
        with self.assertRaisesRegex(ValidationError, 'bystander'):
            self.cmd('vmss capacity-reservation detach -g {rg} -n f --strategy zero-capacity --yes')
        self.cmd('vmss capacity-reservation detach -g {rg} -n f --strategy zero-capacity --force --concurrency 1 '
                 '--yes', checks=[
                     self.check('steps[].action', ['setReservationCapacity', 'setVmGroup']),
                     self.check('disruption.instancesDeallocated', 0),
                     self.check('status.state', 'detached'),
                     self.check('status.instances[].powerState', ['running'] * 2),
                 ])
        self.cmd('capacity reservation show -g {rg} -c g1 -n r1', checks=[
            self.check('sku.capacity', 0),
        ])
        self.cmd('vm show -g {rg} -n bystander -d', checks=[
            self.check('capacityReservation.capacityReservationGroup.id', '{g1}', case_sensitive=False),
            self.check('powerState', 'VM running'),
        ])
        # every write is the forced run's: the reservation, then each member
        self.assertEqual([write.split('/')[-2] for write in self.writes_sent()],
                         ['capacityReservations', 'virtualMachines', 'virtualMachines'])
