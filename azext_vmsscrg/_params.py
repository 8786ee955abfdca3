from knack.arguments import CLIArgumentType

from azure.cli.core.commands.parameters import (get_enum_type, get_resource_name_completion_list,
                                                get_three_state_flag, resource_group_name_type)

from ._validators import MAX_CONCURRENCY, validate_resource_group_name, validate_vmss_name

STRATEGIES = ('deallocate', 'zero-capacity')

vmss_name_type = CLIArgumentType(
    options_list=['--name', '-n'],
    metavar='NAME',
    id_part='name',
    configured_default='vmss',
    completer=get_resource_name_completion_list('Microsoft.Compute/virtualMachineScaleSets'),
    validator=validate_vmss_name,
    help='Scale set name. You can configure the default using `az configure --defaults vmss=<name>`.')


def load_arguments(self, _):
    with self.argument_context('vmss capacity-reservation') as c:
        c.argument('resource_group_name', resource_group_name_type, validator=validate_resource_group_name)
        c.argument('vm_scale_set_name', vmss_name_type)

    for scope in ('vmss capacity-reservation attach', 'vmss capacity-reservation detach'):
        with self.argument_context(scope) as c:
            c.argument('leave_deallocated', arg_type=get_three_state_flag(),
                       help='Leave deallocated the instances this command deallocates, instead of starting again '
                            'those that were running.')
            c.argument('max_unavailable', type=int,
                       help='Flexible members (and Manual-policy upgrades) are handled in batches of at most this '
                            'percentage of the instances, so that the rest keep serving. Default: 20.')
            c.argument('concurrency', type=int,
                       help='How many per-VM operations run at once. Default: every member of a batch at once, '
                            'at most {}.'.format(MAX_CONCURRENCY))
            c.argument('dry_run', arg_type=get_three_state_flag(),
                       help='Show the plan (steps, targets, reasons, expected disruption) and change nothing.')
            c.argument('yes', options_list=['--yes', '-y'], action='store_true',
                       help='Do not prompt for confirmation.')

    with self.argument_context('vmss capacity-reservation detach') as c:
        c.argument('strategy', arg_type=get_enum_type(STRATEGIES),
                   help='deallocate (default): deallocate what must move, clear the association, start again what '
                        'was running. zero-capacity: set the group\'s reservations that the scale set uses to '
                        'capacity 0 and move instances while they run; for scale sets that cannot be deallocated.')
        c.argument('force', arg_type=get_three_state_flag(),
                   help='With --strategy zero-capacity: go ahead even when other VMs or scale sets use the same '
                        'reservations and would lose their capacity guarantee.')

    with self.argument_context('vmss capacity-reservation attach') as c:
        c.argument('capacity_reservation_group', options_list=['--capacity-reservation-group', '--crg'],
                   help='Name of a capacity reservation group in the scale set\'s resource group, or the full id of '
                        'a group in another resource group or subscription.')
