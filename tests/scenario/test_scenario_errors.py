# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The main refusals: each raises its typed error with a message naming the problem, and writes nothing."""
from azure.cli.core.azclierror import InvalidArgumentValueError, ResourceNotFoundError, ValidationError

from scenario_base import VmssCrgScenarioTest, crg, uniform


class ErrorScenarioTest(VmssCrgScenarioTest):

    def test_attach_refusals(self):
        self.create_landscape(
            groups=[crg('zonal', zones=('1',)), crg('other-size', zones=(), sku='Standard_D4s_v3')],
            scale_sets=[uniform('u', zones=())])

        with self.assertRaisesRegex(ResourceNotFoundError, "Capacity reservation group '.*/missing' was not found"):
            self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg missing --yes')
        with self.assertRaisesRegex(ValidationError, "Group 'zonal' is zonal .* the scale set is regional"):
            self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg zonal --yes')
        with self.assertRaisesRegex(ValidationError,
                                    "Group 'other-size' has no reservation for size Standard_D2s_v3"):
            self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg {other-size} --yes')
        with self.assertRaisesRegex(ResourceNotFoundError, "Scale set 'nope' was not found"):
            self.cmd('vmss capacity-reservation status -g {rg} -n nope')

        self.cmd('vmss capacity-reservation status -g {rg} -n u', checks=[
            self.check('state', 'detached'),
            self.check('zones', []),
        ])
        self.assertEqual(self.writes_sent(), [])

    def test_argument_errors_send_nothing(self):
        vm = ('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/'
              'Microsoft.Compute/virtualMachines/g')
        self.kwargs.update(rg='MyResourceGroup', vm=vm)
        with self.assertRaisesRegex(InvalidArgumentValueError, "Invalid --capacity-reservation-group '.*': not the id "
                                                               "of a capacity reservation group"):
            self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg {vm} --yes')
        with self.assertRaisesRegex(InvalidArgumentValueError, "Invalid --capacity-reservation-group 'bad/': not"):
            self.cmd('vmss capacity-reservation attach -g {rg} -n u --crg bad/ --yes')
        for verb in ('status', 'detach --yes', 'attach --crg g --yes'):
            self.kwargs['verb'] = verb
            with self.assertRaisesRegex(InvalidArgumentValueError, "Invalid --name 'bad.name.': not a valid scale set"):
                self.cmd('vmss capacity-reservation {verb} -g {rg} -n bad.name.')
        self.assertEqual(self.cassette.requests, [])
