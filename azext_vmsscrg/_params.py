from knack.arguments import CLIArgumentType

from azure.cli.core.commands.parameters import get_resource_name_completion_list, resource_group_name_type

from ._validators import validate_vmss_name

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
        c.argument('resource_group_name', resource_group_name_type)
        c.argument('vm_scale_set_name', vmss_name_type)
