# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`--dry-run`: the plan, with reasons and the expected disruption, and not one write request."""
from scenario_base import VmssCrgScenarioTest, crg, flexible, member, uniform


class DryRunScenarioTest(VmssCrgScenarioTest):

    def test_dry_run_writes_nothing(self):
        self.create_landscape(groups=[crg('g1'), crg('g2')], scale_sets=[
            uniform('u', group='g1'),
            flexible('f', members=[member('f-0', group='g2'), member('f-1', power='deallocated')])])

        # no --yes: a dry run asks nothing
        self.cmd('vmss capacity-reservation detach -g {rg} -n u --strategy deallocate --dry-run', checks=[
            self.check('dryRun', True),
            self.check('steps[].action', ['deallocate', 'setModelGroup', 'upgradeInstances', 'start']),
            self.check('steps[0].targets', ['0', '1', '2']),
            self.check("length(steps[?reason == null || reason == ''])", 0),
            self.check("steps[?outcome] | length(@)", 0),  # planned, not run
            self.check('disruption.instancesDeallocated', 3),
            self.check('disruption.instancesStartedWithoutReservation', 3),  # started again on on-demand capacity
            self.check('status.state', 'attached'),
        ])
        self.cmd('vmss capacity-reservation detach -g {rg} -n u --strategy zero-capacity --dry-run', checks=[
            self.check('steps[].action', ['setReservationCapacity', 'setModelGroup', 'upgradeInstances',
                                          'upgradeInstances', 'upgradeInstances']),
            self.check('disruption.reservationsSetToZero[0]', '{g1}/capacityReservations/r1', case_sensitive=False),
            self.check('disruption.instancesStartedWithoutReservation', 0),
        ])
        self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg g2 --dry-run', checks=[
            self.check('dryRun', True),
            self.check('capacityReservationGroup', '{g2}', case_sensitive=False),
            self.check('steps[].action', ['deallocate', 'setModelGroup', 'upgradeInstances', 'start']),
            self.check('steps[1].capacityReservationGroup', '{g2}', case_sensitive=False),
            self.check('disruption.instancesStartedWithoutReservation', 0),  # g2's reservation holds them all
        ])
        # Flexible: the deallocated member moves at once, the running one (on g2) in a batch
        self.cmd('vmss capacity-reservation attach -g {rg} -n f --crg g1 --dry-run', checks=[
            self.check('steps[].[action, targets[0]]',
                       [['setVmGroup', 'f-1'], ['deallocate', 'f-0'], ['setVmGroup', 'f-0'], ['start', 'f-0']]),
            self.check('status.state', 'partial'),
        ])

        # nothing changed
        self.cmd('vmss capacity-reservation status -g {rg} -n u', checks=[
            self.check('state', 'attached'),
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check("instances[?powerState=='running'] | length(@)", 3),
        ])
        self.assertEqual(self.writes_sent(), [])
