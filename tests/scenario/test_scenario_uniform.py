# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Uniform scale sets, one recorded lifecycle per upgrade policy: status, detach (deallocate), attach,
switch groups, detach (zero-capacity), each checked against the result and the end state."""
from scenario_base import VmssCrgScenarioTest, crg, uniform

# How each policy brings instances to the new model: Azure does it (Automatic, Rolling), or the command
# upgrades them, deallocated ones at once and running ones one batch at a time (Manual).
# Manual: --max-unavailable 20 of 3 instances gives batches of one running instance.
FOLLOW = {'detach': ['waitForUpgrade'], 'attach': ['waitForUpgrade'], 'zero': ['waitForUpgrade'],
          'attach_targets': [['0', '1', '2']], 'attach_batches': []}
MANUAL = {'detach': ['upgradeInstances'], 'attach': ['upgradeInstances'] * 3, 'zero': ['upgradeInstances'] * 3,
          'attach_targets': [['1'], ['0'], ['2']], 'attach_batches': ['1/2', '2/2']}


class UniformScenarioTest(VmssCrgScenarioTest):

    def test_uniform_automatic(self):
        self._lifecycle('Automatic', FOLLOW)

    def test_uniform_rolling(self):
        self._lifecycle('Rolling', FOLLOW)

    def test_uniform_manual(self):
        self._lifecycle('Manual', MANUAL)

    def _lifecycle(self, policy, upgrade):
        self.create_landscape(groups=[crg('g1'), crg('g2')],
                              scale_sets=[uniform('u', policy=policy, group='g1', power={'1': 'deallocated'})])
        self.kwargs['u'] = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/' \
                           'virtualMachineScaleSets/u'.format(**self.kwargs)

        self.cmd('vmss capacity-reservation status -g {rg} -n u', checks=[
            self.check('state', 'attached'),
            self.check('upgradePolicy', policy),
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('capacityReservationGroupSource', 'model'),
            self.check('summary.instances', 3),
            self.check('summary.associated', 3),
            self.check("instances[?powerState=='deallocated'].instanceId", ['1']),
            self.check('reservations[].[name, zone, capacity, allocated]', [['r1', '1', 10, 2]]),
        ])

        # detach, default strategy: deallocate the running instances, clear the model, start them again
        self.cmd('vmss capacity-reservation detach -g {rg} -n u --strategy deallocate --yes', checks=[
            self.check('dryRun', False),
            self.check('strategy', 'deallocate'),
            self.check('steps[].action', ['deallocate', 'setModelGroup'] + upgrade['detach'] + ['start']),
            self.check("steps[?outcome=='succeeded'] | length(@)", 3 + len(upgrade['detach'])),
            self.check('steps[0].targets', ['0', '2']),
            self.check('steps[1].targets[0]', '{u}', case_sensitive=False),
            self.check('steps[1].capacityReservationGroup', None),
            self.check('steps[-1].targets', ['0', '2']),
            self.check('disruption.instancesDeallocated', 2),
            self.check('disruption.instancesStartedAgain', 2),
            self.check('status.state', 'detached'),
            self.check('status.capacityReservationGroup', None),
            self.check('status.summary.associated', 0),
            self.check('status.instances[].powerState', ['running', 'deallocated', 'running']),
        ])
        self.cmd('vmss show -g {rg} -n u', checks=[
            self.check('virtualMachineProfile.capacityReservation', None),
        ])

        # attach: a zonal scale set on no group is attached in place, nothing deallocated
        self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg g1 --yes', checks=[
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('steps[].action', ['setModelGroup'] + upgrade['attach']),
            self.check('steps[0].capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('steps[1:].targets', upgrade['attach_targets']),
            self.check('steps[].batch', upgrade['attach_batches']),
            self.check('disruption.instancesDeallocated', 0),
            self.check('warnings', []),
            self.check('status.state', 'attached'),
            self.check('status.capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('status.summary.associated', 3),
            self.check('status.instances[].powerState', ['running', 'deallocated', 'running']),
        ])

        # switch to another group: every allocated instance must be deallocated meanwhile
        self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg {g2} --yes', checks=[
            self.check('steps[].action', ['deallocate', 'setModelGroup'] + upgrade['detach'] + ['start']),
            self.check('steps[0].targets', ['0', '2']),
            self.check('steps[1].capacityReservationGroup', '{g2}', case_sensitive=False),
            self.check('status.state', 'attached'),
            self.check('status.capacityReservationGroup', '{g2}', case_sensitive=False),
            self.check("status.reservations[].[name, allocated]", [['r1', 2]]),
            self.check('status.instances[].powerState', ['running', 'deallocated', 'running']),
        ])
        self.cmd('capacity reservation group show -g {rg} -n g1 --instance-view', checks=[
            self.check('length(virtualMachinesAssociated || `[]`)', 0),
        ])

        # detach with zero-capacity: the reservation goes to 0 and instances move while they run
        self.cmd('vmss capacity-reservation detach -g {rg} -n u --strategy zero-capacity --yes', checks=[
            self.check('strategy', 'zero-capacity'),
            self.check('steps[].action', ['setReservationCapacity', 'setModelGroup'] + upgrade['zero']),
            self.check('steps[0].capacity', 0),
            self.check('disruption.instancesDeallocated', 0),
            self.check('length(disruption.reservationsSetToZero)', 1),
            self.check('status.state', 'detached'),
            self.check('status.instances[].powerState', ['running', 'deallocated', 'running']),
        ])
        self.cmd('capacity reservation show -g {rg} -c g2 -n r1', checks=[
            self.check('sku.capacity', 0),
        ])
