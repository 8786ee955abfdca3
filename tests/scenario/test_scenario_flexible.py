# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Flexible scale sets, with and without a VM profile, one recorded lifecycle each: status, detach
(deallocate), attach, switch groups, detach (zero-capacity).

Members are moved one by one (--concurrency 1) so that the recorded order of their requests is the same
at every recording; batches are --max-unavailable 20% of the members, so one member at a time here.
"""
from scenario_base import VmssCrgScenarioTest, crg, flexible, member

BATCHES = ['deallocate', 'setVmGroup', 'start'] * 2


class FlexibleScenarioTest(VmssCrgScenarioTest):

    def test_flexible_without_profile(self):
        members = [member('f-0', group='g1'), member('f-1', group='g1'),
                   member('f-2', group='g1', power='deallocated')]
        self.create_landscape(groups=[crg('g1'), crg('g2')], scale_sets=[flexible('f', members=members)])
        self._lifecycle(source='members', instances=3, model=[])
        # each member, checked with stock az: f-0 is running and on no group
        self.cmd('vm show -g {rg} -n f-0 -d', checks=[
            self.check('capacityReservation.capacityReservationGroup', None),
            self.check('powerState', 'VM running'),
        ])

    def test_flexible_with_profile(self):
        self.create_landscape(groups=[crg('g1'), crg('g2')],
                              scale_sets=[flexible('f', group='g1', profile=True, capacity=2)])
        self._lifecycle(source='model', instances=2, model=['setModelGroup'])
        self.cmd('vmss show -g {rg} -n f', checks=[
            self.check('orchestrationMode', 'Flexible'),
            self.check('virtualMachineProfile.capacityReservation', None),
        ])

    def _lifecycle(self, source, instances, model):
        """`model`: the step on the scale set's own profile, if it has one, before the members' steps."""
        running = instances - 1 if source == 'members' else instances
        self.kwargs['powers'] = ['running'] * running + ['deallocated'] * (instances - running)

        self.cmd('vmss capacity-reservation status -g {rg} -n f', checks=[
            self.check('orchestrationMode', 'Flexible'),
            self.check('state', 'attached'),
            self.check('capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('capacityReservationGroupSource', source),
            self.check('summary.instances', instances),
            self.check('summary.associated', instances),
            self.check("instances[?powerState=='running'] | length(@)", running),
        ])

        # detach (default strategy, deallocate): deallocated members change at once, running ones one batch
        # at a time
        idle = ['setVmGroup'] if source == 'members' else []
        self.cmd('vmss capacity-reservation detach -g {rg} -n f --concurrency 1 --yes',
                 checks=[
                     self.check('steps[].action', model + idle + BATCHES),
                     self.check("steps[?action=='deallocate'].batch", ['1/2', '2/2']),
                     self.check("steps[?action=='setVmGroup'].capacityReservationGroup", []),  # all null
                     self.check("steps[?outcome=='succeeded'] | length(@)", len(model + idle + BATCHES)),
                     self.check('disruption.instancesDeallocated', 2),
                     self.check('disruption.instancesStartedAgain', 2),
                     self.check('status.state', 'detached'),
                     self.check('status.summary.associated', 0),
                     self.check('status.instances[].powerState', self.kwargs['powers']),
                 ])

        # attach: zonal members on no group are attached in place, running
        self.cmd('vmss capacity-reservation attach -g {rg} -n f --crg g1 --concurrency 1 --yes', checks=[
            self.check('steps[].action', model + idle + ['setVmGroup']),
            self.check('steps[-1].count', 2),
            self.check('steps[-1].capacityReservationGroup', '{g1}', case_sensitive=False),
            self.check('disruption.instancesDeallocated', 0),
            self.check('status.state', 'attached'),
            self.check('status.summary.associated', instances),
            self.check('status.instances[].powerState', self.kwargs['powers']),
        ])

        # switch groups: each running member is deallocated, moved and started again, one batch at a time
        self.cmd('vmss capacity-reservation attach -g {rg} -n f --crg {g2} --concurrency 1 --yes', checks=[
            self.check('steps[].action', model + idle + BATCHES),
            self.check("steps[?action=='setVmGroup'].capacityReservationGroup | [0]", '{g2}',
                       case_sensitive=False),
            self.check('status.state', 'attached'),
            self.check('status.capacityReservationGroup', '{g2}', case_sensitive=False),
            self.check('status.instances[].powerState', self.kwargs['powers']),
        ])
        self.cmd('capacity reservation group show -g {rg} -n g2 --instance-view', checks=[
            self.check('length(virtualMachinesAssociated)', instances),
        ])

        # detach with zero-capacity: nothing is deallocated; the reservation is left at capacity 0
        self.cmd('vmss capacity-reservation detach -g {rg} -n f --strategy zero-capacity --concurrency 1 --yes',
                 checks=[
                     self.check('steps[].action', ['setReservationCapacity'] + model + ['setVmGroup']),
                     self.check('steps[-1].count', instances),
                     self.check('disruption.instancesDeallocated', 0),
                     self.check('status.state', 'detached'),
                     self.check('status.instances[].powerState', self.kwargs['powers']),
                 ])
        self.cmd('capacity reservation show -g {rg} -c g2 -n r1', checks=[
            self.check('sku.capacity', 0),
        ])
