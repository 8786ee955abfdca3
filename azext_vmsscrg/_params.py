# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from knack.arguments import CLIArgumentType

from azure.cli.core.commands.parameters import (get_enum_type, get_resource_name_completion_list,
                                                get_three_state_flag, resource_group_name_type)

from ._validators import MAX_CONCURRENCY, validate_resource_group_name, validate_vmss_name

STRATEGIES = ('deallocate', 'zero-capacity')

vmss_name_type = CLIArgumentType(
    metavar='NAME',
    id_part='name',
    configured_default='vmss',
    completer=get_resource_name_completion_list('Microsoft.Compute/virtualMachineScaleSets'),
    validator=validate_vmss_name,
    help='Scale set name. You can configure the default using `az configure --defaults vmss=<name>`.')

# The arguments attach and detach share. The CLI appends "Default: X." from the function's signature (custom.py),
# so no help text here repeats a default.
leave_deallocated_type = CLIArgumentType(
    arg_type=get_three_state_flag(),
    help='Leave deallocated the instances this command deallocates, instead of starting again those that were '
         'running.')
max_unavailable_type = CLIArgumentType(
    type=int,
    help='Percentage of the instances handled at once: Flexible members, and the instance upgrades of a Manual '
         'upgrade policy, move in batches of at most this share, so that the rest keep serving.')
concurrency_type = CLIArgumentType(
    type=int,
    help='How many per-VM operations run at once. Without it: every member of a batch at once, at most '
         f'{MAX_CONCURRENCY}.')
dry_run_type = CLIArgumentType(
    arg_type=get_three_state_flag(),
    help='Show the plan (steps, targets, reasons, expected disruption) and change nothing.')
WHOLE_GROUP_HELP = ('A whole capacity reservation group instead of one scale set (no --name): its name with '
                    '--resource-group, or its full id.')
yes_type = CLIArgumentType(options_list=['--yes', '-y'], action='store_true', help='Do not prompt for confirmation.')


# One context per command, no loop over scopes, and options on the c.argument line: azdev's test-coverage rule reads
# this file line by line.
def load_arguments(self, _):
    with self.argument_context('vmss capacity-reservation') as c:
        c.argument('resource_group_name', resource_group_name_type, options_list=['--resource-group', '-g'],
                   validator=validate_resource_group_name)
        c.argument('vm_scale_set_name', vmss_name_type, options_list=['--name', '-n'])

    with self.argument_context('vmss capacity-reservation status') as c:
        c.argument('capacity_reservation_group', options_list=['--capacity-reservation-group', '--crg'],
                   help=(f"{WHOLE_GROUP_HELP} Reports every scale set and VM on it, its reservations, and what keeps "
                         "it from being deleted."))

    with self.argument_context('vmss capacity-reservation detach') as c:
        c.argument('strategy', arg_type=get_enum_type(STRATEGIES),
                   help='How to detach. deallocate: deallocate what must move, clear the association, start again '
                        'what was running. zero-capacity: set the group\'s reservations that the scale set uses to '
                        'capacity 0 and move the instances while they run; for scale sets that cannot be '
                        'deallocated.')
        c.argument('force', arg_type=get_three_state_flag(),
                   help='With --strategy zero-capacity: go ahead even when other VMs or scale sets use the same '
                        'reservations and would lose their capacity guarantee.')
        c.argument('leave_deallocated', leave_deallocated_type)
        c.argument('max_unavailable', max_unavailable_type)
        c.argument('concurrency', concurrency_type)
        c.argument('dry_run', dry_run_type)
        c.argument('yes', yes_type)
        c.argument('capacity_reservation_group', options_list=['--capacity-reservation-group', '--crg'],
                   help=f"{WHOLE_GROUP_HELP} Detaches every scale set and standalone VM on it, in one plan.")
        c.argument('delete_group', arg_type=get_three_state_flag(),
                   help='With --crg: then delete the group\'s reservations and the group, and check that they are '
                        'gone.')

    with self.argument_context('vmss capacity-reservation attach') as c:
        c.argument('capacity_reservation_group', options_list=['--capacity-reservation-group', '--crg'],
                   help='Name of a capacity reservation group in the scale set\'s resource group, or the full id of '
                        'a group in another resource group or subscription.')
        c.argument('leave_deallocated', leave_deallocated_type)
        c.argument('max_unavailable', max_unavailable_type)
        c.argument('concurrency', concurrency_type)
        c.argument('dry_run', dry_run_type)
        c.argument('yes', yes_type)
