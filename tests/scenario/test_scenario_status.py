# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`az vmss capacity-reservation status`, recorded: attached, detached and partial scale sets."""
from scenario_base import VmssCrgScenarioTest, crg, flexible, member, uniform


class StatusScenarioTest(VmssCrgScenarioTest):

    def test_status_uniform_attached(self):
        self.create_landscape(groups=[crg('g1', capacity=2)],
                              scale_sets=[uniform('u', group='g1', capacity=3, policy='Rolling')])
        self.cmd('vmss capacity-reservation status -g {rg} -n u', checks=[
            self.check('state', 'attached'),
            self.check('orchestrationMode', 'Uniform'),
            self.check('upgradePolicy', 'Rolling'),
            self.check('zones', ['1']),
            self.check('sku', {'name': 'Standard_D2s_v3', 'capacity': 3}),
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('capacityReservationGroupError', None),
            self.check('instances[].instanceId', ['0', '1', '2']),
            self.check('instances[].inSync', [True, True, True]),
            # three running instances on a reservation of two: overallocated, which status reports
            self.check('reservations[].[name, sku, zone, capacity, allocated, overallocated]',
                       [['r1', 'Standard_D2s_v3', '1', 2, 3, True]]),
            self.check('summary', {'instances': 3, 'associated': 3, 'inSync': 3, 'outOfSync': 0, 'unknown': 0}),
            self.check_pattern('nextAction', '^Nothing to do'),
        ])

    def test_status_detached_and_partial(self):
        self.create_landscape(groups=[crg('g1')], scale_sets=[
            uniform('plain', policy='Automatic', zones=()),
            flexible('f', members=[member('f-0', group='g1'), member('f-1')])])
        self.cmd('vmss capacity-reservation status -g {rg} -n plain', checks=[
            self.check('state', 'detached'),
            self.check('upgradePolicy', 'Automatic'),
            self.check('capacityReservationGroup', None),
            self.check('reservations', []),
            self.check('summary.associated', 0),
        ])
        self.cmd('vmss capacity-reservation status -g {rg} -n f', checks=[
            self.check('state', 'partial'),
            self.check('capacityReservationGroupSource', 'members'),
            # without a profile, a group is in play only when every member shares it; members half moved are
            # compared with the one group some hold, and either direction finishes the move
            self.check('capacityReservationGroup', None),
            self.check('instances[].[name, capacityReservationGroup != null, inSync]',
                       [['f-0', True, True], ['f-1', False, False]]),
            self.check('summary.associated', 1),
            self.check('unfinishedRun', None),
            self.check('nextAction', 'az vmss capacity-reservation attach -g {rg} -n f --crg g1 to finish attaching, '
                                     'or az vmss capacity-reservation detach -g {rg} -n f to finish detaching.'),
        ])
        # the table output works too
        result = self.cmd('vmss capacity-reservation status -g {rg} -n f -o table')
        self.assertIn('f-1', result.output)
