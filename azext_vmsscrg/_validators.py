import re

from azure.cli.core.azclierror import InvalidArgumentValueError

# Azure's rules for Microsoft.Compute/virtualMachineScaleSets names: 1-64 letters, digits, underscores,
# periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore
# (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute, as
# Microsoft's PSRule.Rules.Azure encodes it in rule Azure.VMSS.Name). The core vm module has no such check.
_VMSS_NAME = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?')


def validate_vmss_name(namespace):
    """Reject a malformed --name before any request. With --ids the names arrive as a list."""
    names = namespace.vm_scale_set_name
    for name in names if isinstance(names, list) else [names]:
        if not _VMSS_NAME.fullmatch(name):
            raise InvalidArgumentValueError(
                "Invalid --name '{}': not a valid scale set name.".format(name),
                recommendation='Use 1-64 letters, digits, underscores, periods or hyphens, starting with a letter '
                               'or digit and ending with a letter, digit or underscore.')
