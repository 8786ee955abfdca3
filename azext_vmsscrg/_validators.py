# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
import re

from azure.cli.core.azclierror import ArgumentUsageError, InvalidArgumentValueError, RequiredArgumentMissingError

# Azure's rules for Microsoft.Compute/virtualMachineScaleSets names: 1-64 letters, digits, underscores,
# periods and hyphens, starting with a letter or digit and ending with a letter, digit or underscore
# (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute, as
# Microsoft's PSRule.Rules.Azure encodes it in rule Azure.VMSS.Name). The core vm module has no such check.
_VMSS_NAME = re.compile(r'[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?')
# Resource group names: 1-90 letters (Unicode too), digits, underscores, parentheses, hyphens and periods, not
# ending with a period (the REST specification's pattern ^[-\w\._\(\)]+$ and the documented naming rules). The
# SDK puts the name in the request path as it is, so anything else would address another resource.
_RESOURCE_GROUP = re.compile(r'[-\w.()]{0,89}[-\w()]')


def validate_resource_group_name(namespace):
    """Reject a malformed --resource-group before any request. With --ids the names arrive as a list."""
    names = namespace.resource_group_name
    for name in names if isinstance(names, list) else [names]:
        if name is not None and not _RESOURCE_GROUP.fullmatch(name):
            raise InvalidArgumentValueError(
                f"Invalid --resource-group '{name}': not a valid resource group name.",
                recommendation="Use 1-90 letters, digits, underscores, parentheses, hyphens or periods, not ending "
                               "with a period: 'az group list -o table' lists your resource groups.")


def validate_vmss_name(namespace):
    """Reject a malformed --name before any request. With --ids the names arrive as a list."""
    names = namespace.vm_scale_set_name
    for name in names if isinstance(names, list) else [names]:
        if name is None:
            raise RequiredArgumentMissingError('Give the scale set with --name (and --resource-group), or a whole '
                                               'capacity reservation group with --crg.')
        if not _VMSS_NAME.fullmatch(name):
            raise InvalidArgumentValueError(
                f"Invalid --name '{name}': not a valid scale set name.",
                recommendation='Use 1-64 letters, digits, underscores, periods or hyphens, starting with a letter '
                               'or digit and ending with a letter, digit or underscore.')


_GROUP_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}')
# Per-VM operations in flight at once. The default is a step's batch (every member of the batch at once) up to
# this cap; --concurrency overrides it. The SDK's connection pool is sized to match (_client_factory.py).
MAX_CONCURRENCY = 256


def validate_status(cmd, namespace):
    validate_resource_group_name(namespace)
    if not _whole_group(cmd, namespace):
        _validate_scale_set(namespace)


def _validate_scale_set(namespace):
    """One scale set: --name and --resource-group (optional in the signature only for --crg)."""
    validate_vmss_name(namespace)
    if not namespace.resource_group_name:
        raise RequiredArgumentMissingError('the following arguments are required: --resource-group/-g',
                                           recommendation='Add --resource-group, the scale set\'s resource group.')


def validate_detach(cmd, namespace):
    """Everything detach can check before a request (a command validator replaces the argument ones)."""
    validate_resource_group_name(namespace)
    if not _whole_group(cmd, namespace):
        _validate_scale_set(namespace)
        if namespace.delete_group:
            raise ArgumentUsageError('--delete-group applies only with --crg (a whole capacity reservation group).',
                                     recommendation='Drop --delete-group, or give --crg instead of --name.')
    _validate_numbers(namespace)
    zero = namespace.strategy == 'zero-capacity'
    if namespace.force and not zero:
        raise ArgumentUsageError('--force applies only with --strategy zero-capacity.',
                                 recommendation='Drop --force, or add --strategy zero-capacity.')
    if namespace.leave_deallocated and zero:
        raise ArgumentUsageError('--leave-deallocated does not apply with --strategy zero-capacity, which '
                                 'deallocates nothing.', recommendation='Drop --leave-deallocated.')


def validate_attach(cmd, namespace):
    validate_resource_group_name(namespace)
    validate_vmss_name(namespace)
    _validate_numbers(namespace)
    _validate_group(cmd, namespace)


def _whole_group(cmd, namespace):
    """status and detach with --crg: the group as an id, and no --name. False without --crg."""
    if not getattr(namespace, 'capacity_reservation_group', None):
        return False
    name = namespace.vm_scale_set_name
    if name and name != cmd.cli_ctx.config.get('defaults', 'vmss', fallback=None):  # a configured default is no choice
        raise ArgumentUsageError('--name and --crg cannot be combined: --name acts on one scale set, --crg on every '
                                 'scale set and VM of a capacity reservation group.',
                                 recommendation='Drop --name to act on the whole group, or drop --crg.')
    namespace.vm_scale_set_name = None
    if '/' not in namespace.capacity_reservation_group and not namespace.resource_group_name:
        raise RequiredArgumentMissingError('--crg gives a group name, so --resource-group is needed to find it.',
                                           recommendation='Add --resource-group GROUP_RG, or give the full id of the '
                                                          'capacity reservation group.')
    _validate_group(cmd, namespace)
    return True


def _validate_numbers(namespace):
    if not 1 <= namespace.max_unavailable <= 100:
        raise InvalidArgumentValueError(
            f'--max-unavailable must be a percentage from 1 to 100, not {namespace.max_unavailable}.',
            recommendation='For example --max-unavailable 20 takes at most a fifth of the members down at a time.')
    if namespace.concurrency is not None and not 1 <= namespace.concurrency <= MAX_CONCURRENCY:
        raise InvalidArgumentValueError(
            f'--concurrency must be from 1 to {MAX_CONCURRENCY}, not {namespace.concurrency}.')


def _validate_group(cmd, namespace):
    """Turn --capacity-reservation-group (a name in the scale set's resource group, or an id) into an id."""
    from azure.cli.core.commands.client_factory import get_subscription_id
    from azure.mgmt.core.tools import is_valid_resource_id, parse_resource_id, resource_id
    value = (namespace.capacity_reservation_group or '').strip()
    if '/' in value:
        parts = parse_resource_id(value) if is_valid_resource_id(value) else {}
        if (parts.get('namespace') or '').lower() != 'microsoft.compute' or \
                (parts.get('type') or '').lower() != 'capacityreservationgroups' or parts.get('child_type_1'):
            raise InvalidArgumentValueError(
                f"Invalid --capacity-reservation-group '{value}': not the id of a capacity reservation group.",
                recommendation='Give a group name, or an id like /subscriptions/<id>/resourceGroups/<group>/providers/'
                               'Microsoft.Compute/capacityReservationGroups/<name>.')
        namespace.capacity_reservation_group = value
        return
    if not _GROUP_NAME.fullmatch(value):
        raise InvalidArgumentValueError(
            f"Invalid --capacity-reservation-group '{value}': not a valid group name.",
            recommendation='Use 1-80 letters, digits, underscores, periods or hyphens, or the full group id.')
    namespace.capacity_reservation_group = resource_id(
        subscription=get_subscription_id(cmd.cli_ctx), resource_group=_one_resource_group(namespace),
        namespace='Microsoft.Compute', type='capacityReservationGroups', name=value)


def _one_resource_group(namespace):
    """The scale set's resource group; with --ids (a list) the one they all share, else the id is needed."""
    names = namespace.resource_group_name
    if not isinstance(names, list):
        return names
    distinct = {name.lower(): name for name in names}
    if len(distinct) != 1:
        raise ArgumentUsageError(
            f'--capacity-reservation-group names a group, but the scale sets of --ids are in {len(distinct)} resource '
            'groups, so it is not clear which one holds the group.',
            recommendation='Give the full id of the group: /subscriptions/<id>/resourceGroups/<group>/providers/'
                           'Microsoft.Compute/capacityReservationGroups/<name>.')
    return next(iter(distinct.values()))
