# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Read-only: gather one Snapshot of a scale set and the capacity reservation group in play.

The requests don't grow with the number of instances, apart from paging and the instance views of
Flexible members that the member list returns without one: the scale set; its instances (one paged
list); the group with its instance view and its reservations (one GET, one paged list); and, only when
some Uniform instance isn't on the latest model and isn't in that group's list, one paged list of the
subscription's groups to find the group it still holds. When no group is in play but the instances hold
one (a detach half done), that group is read instead.
"""
import time
from concurrent.futures import ThreadPoolExecutor

from knack.log import get_logger

from .snapshot import (FLEXIBLE, UNIFORM, Group, Instance, ReadError, Reservation, ScaleSet, Snapshot,
                       group_in_play, held_group, normalize_id)

logger = get_logger(__name__)

MAX_PARALLEL_READS = 16
SETTLE_TIMEOUT = 900  # seconds to wait for an operation already running on the scale set (vmsscrg.settle_timeout)
SETTLE_POLL_SECONDS = 5
LIST_LAG_SECONDS = 60  # how long to wait for association lists to show a change before verifying
# What Azure does for a scale set without an upgrade policy (Flexible scale sets may have none):
# existing instances change only when someone updates them.
DEFAULT_UPGRADE_MODE = 'Manual'
# the first api-version with Block capacity reservations: reservationType and scheduleProfile (the SDK's models
# predate them, so they are read from the answer itself)
BLOCK_API_VERSION = '2025-04-01'


def inspect_scale_set(client, resource_group_name, vm_scale_set_name, client_for_subscription, target_group_id=None):
    """`client_for_subscription(subscription_id)` returns a client for a group in another subscription.
    `target_group_id`: a group to attach to, read too when it is not the group in play."""
    vmss = _get_scale_set(client, resource_group_name, vm_scale_set_name)
    scale_set = _scale_set(vmss, resource_group_name)
    subscription_id = _parse(vmss.id)['subscription']

    def group_of(group_id):
        if not group_id:
            return None, None
        group_subscription = _parse(group_id)['subscription']
        same_subscription = group_subscription.lower() == subscription_id.lower()
        return read_group(client if same_subscription else client_for_subscription(group_subscription), group_id)

    def read_target(in_play):
        if not target_group_id or (in_play and normalize_id(in_play) == normalize_id(target_group_id)):
            return None, None
        return group_of(target_group_id)

    if scale_set.orchestration_mode == FLEXIBLE:
        members = _flexible_members(client, resource_group_name, vmss.id)
        in_play = group_in_play(scale_set, members)
        # none in play (a detach half done): the group members still hold, whose reservations the plan needs
        group, group_error = group_of(in_play or held_group(members))
        return Snapshot(scale_set, members, group, group_error, None, *read_target(in_play))

    vms = list(client.virtual_machine_scale_set_vms.list(resource_group_name, vm_scale_set_name,
                                                         expand='instanceView'))
    group, group_error = group_of(scale_set.model_group_id)
    instances, lookup_error = _uniform_instances(client, subscription_id, vms, group, group_error,
                                                 group_of=group_of)
    if not scale_set.model_group_id and held_group(instances):  # the model detached, instances not yet
        group, group_error = group_of(held_group(instances))
    return Snapshot(scale_set, instances, group, group_error, lookup_error, *read_target(scale_set.model_group_id))


def wait_until_settled(read_snapshot, timeout, sleep=time.sleep, clock=time.monotonic):
    """Read the scale set until no operation runs on it (an earlier run, killed mid-operation, leaves Azure
    finishing it) or `timeout` seconds have passed; returns the last snapshot, settled or not."""
    deadline = clock() + timeout
    snapshot = read_snapshot()
    if snapshot.busy and timeout > 0:
        logger.warning("Scale set '%s' %s: waiting up to %d seconds for that operation to finish.",
                       snapshot.scale_set.name, snapshot.busy, timeout)
    while snapshot.busy and clock() < deadline:
        sleep(min(SETTLE_POLL_SECONDS, max(0.0, deadline - clock())))
        snapshot = read_snapshot()
    return snapshot


def wait_for_lists(client, group_ids, member_ids, wanted, *, timeout=LIST_LAG_SECONDS, sleep=time.sleep,
                   clock=time.monotonic):
    """Azure's association lists (virtualMachinesAssociated) may show a change only some time after the machines'
    own models do; how long is not documented. Read `group_ids` until `wanted` lists every member of `member_ids`
    and no other group lists any (None: none lists any), at most `timeout` seconds. True when they agree."""
    ours = {normalize_id(m) for m in member_ids}
    deadline = clock() + timeout
    delay = 1.0
    while True:
        agree = True
        for group_id in {normalize_id(g) for g in group_ids if g}:
            group, error = read_group(client, group_id)
            if error is not None:
                return False
            listed = {normalize_id(vm) for vm in group.associated_ids} & ours
            agree = agree and listed == (ours if wanted and normalize_id(wanted) == group_id else set())
        if agree or clock() >= deadline:
            return agree
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, 8.0)


def _get_scale_set(client, resource_group_name, vm_scale_set_name):
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError as SdkResourceNotFoundError
    from azure.cli.core.azclierror import ForbiddenError, ResourceNotFoundError
    try:
        return client.virtual_machine_scale_sets.get(resource_group_name, vm_scale_set_name)
    except SdkResourceNotFoundError as ex:
        if ex.error and (ex.error.code or '').lower() == 'resourcegroupnotfound':
            raise ResourceNotFoundError(
                f"Resource group '{resource_group_name}' was not found.",
                recommendation="Check --resource-group: 'az group list -o table' lists your resource groups."
            ) from ex
        raise ResourceNotFoundError(
            f"Scale set '{vm_scale_set_name}' was not found in resource group "
            f"'{resource_group_name}'{_what_else(client, resource_group_name, vm_scale_set_name)}.",
            recommendation=(f"Check --name: 'az vmss list -g {resource_group_name} -o table' lists the scale sets "
                            "there.")) from ex
    except HttpResponseError as ex:
        if ex.status_code in (401, 403):
            raise ForbiddenError(f"Cannot read scale set '{vm_scale_set_name}' in resource group "
                                 f"'{resource_group_name}': {ex.error.message if ex.error else ex}",
                                 recommendation='Check --resource-group, --name or --subscription, and your access '
                                                'to the scale set.') from ex
        raise


def _what_else(client, resource_group_name, name):
    """', where it is a virtual machine' (and which scale set it belongs to) when a VM has the name, else ''."""
    from azure.core.exceptions import HttpResponseError
    try:
        vm = client.virtual_machines.get(resource_group_name, name)
    except HttpResponseError:
        return ''
    owner = vm.virtual_machine_scale_set.id if vm.virtual_machine_scale_set else None
    where = f", a member of scale set '{owner.rstrip('/').rsplit('/', 1)[-1]}'" if owner else ', not a scale set'
    return f": '{name}' is a virtual machine{where}"


def _scale_set(vmss, resource_group_name):
    profile = vmss.virtual_machine_profile
    policy = vmss.upgrade_policy
    rolling = policy.rolling_upgrade_policy if policy else None
    return ScaleSet(
        id=vmss.id,
        name=vmss.name,
        resource_group=resource_group_name,
        orchestration_mode=vmss.orchestration_mode or UNIFORM,
        upgrade_mode=policy.mode if policy and policy.mode else DEFAULT_UPGRADE_MODE,
        zones=tuple(vmss.zones or ()),
        sku_name=vmss.sku.name if vmss.sku else None,
        capacity=vmss.sku.capacity if vmss.sku else None,
        has_vm_profile=profile is not None,
        model_group_id=_group_id(profile.capacity_reservation) if profile else None,
        location=vmss.location,
        ephemeral_os_disk=_ephemeral(profile.storage_profile) if profile else False,
        single_placement_group=vmss.single_placement_group,
        fault_domain_count=vmss.platform_fault_domain_count,
        spot=bool(profile and (profile.priority or '').lower() == 'spot'),
        etag=vmss.etag,
        provisioning_state=vmss.provisioning_state,
        max_batch_percent=rolling.max_batch_instance_percent if rolling else None,
        pause_seconds=_seconds(rolling.pause_time_between_batches) if rolling else 0.0)


def _flexible_members(client, resource_group_name, vmss_id, pages=None):
    """One paged list of the members, then the instance views the list left out, read in parallel. `pages`: a
    list that gets the number of pages read."""
    listed = [list(page) for page in client.virtual_machines.list(
        resource_group_name, filter=f"'virtualMachineScaleSet/id' eq '{vmss_id}'", expand='instanceView').by_page()]
    if pages is not None:
        pages.append(len(listed))
    return _members(client, [vm for page in listed for vm in page])


def read_vms(client, vm_ids):
    """Standalone VMs by id (those that no longer exist are left out), as Flexible members are read: one paged
    list per resource group."""
    wanted = {normalize_id(vm_id) for vm_id in vm_ids}
    groups = {_parse(vm_id)['resource_group'].lower(): _parse(vm_id)['resource_group'] for vm_id in vm_ids}
    vms = [vm for rg in groups.values() for vm in client.virtual_machines.list(rg, expand='instanceView')
           if normalize_id(vm.id) in wanted]
    return _members(client, vms)


def _members(client, vms):
    """Instances of VMs, with the instance views a list left out read in parallel."""
    def instance_view(vm):
        if vm.instance_view is not None:
            return vm.instance_view
        return client.virtual_machines.instance_view(_parse(vm.id)['resource_group'], vm.name)

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_READS) as pool:
        views = list(pool.map(instance_view, vms))
    members = (Instance(id=vm.id, name=vm.name, instance_id=None, power_state=_power_state(view),
                        latest_model_applied=None, group_id=_group_id(vm.capacity_reservation),
                        zone=vm.zones[0] if vm.zones else None,
                        size=vm.hardware_profile.vm_size if vm.hardware_profile else None,
                        ephemeral_os_disk=_ephemeral(vm.storage_profile),
                        spot=(vm.priority or '').lower() == 'spot', provisioning_state=vm.provisioning_state)
               for vm, view in zip(vms, views))
    return tuple(sorted(members, key=lambda member: member.name.lower()))


def _uniform_instances(client, subscription_id, vms, group, group_error, *, group_of):
    """Uniform instances don't carry their association (api 2024-11-01); groups list the instances they hold.

    An instance on the latest model holds the model's group, so it is in that group's list or in none.
    Any other instance may still hold an earlier group, which only a search of the groups can tell.
    """
    associations = {normalize_id(vm_id): group.id for vm_id in group.associated_ids} if group else {}
    # A model group that exists but can't be read may hold any instance.
    unreadable_group = group_error.resource_id if group_error and group_error.status_code != 404 else None
    unresolved = {normalize_id(vm.id) for vm in vms if normalize_id(vm.id) not in associations
                  and (unreadable_group or vm.latest_model_applied is not True)}
    complete = True
    lookup_error = None
    if unresolved:
        found, searched, lookup_error = _lookup_associations(client, subscription_id, group_of)
        associations.update(found)
        # An instance found nowhere holds no group only if the search saw every group that may hold it.
        complete = lookup_error is None and (not unreadable_group or normalize_id(unreadable_group) in searched)
    instances = []
    for vm in vms:
        key = normalize_id(vm.id)
        instances.append(Instance(id=vm.id, name=vm.name, instance_id=vm.instance_id,
                                  power_state=_power_state(vm.instance_view),
                                  latest_model_applied=vm.latest_model_applied, group_id=associations.get(key),
                                  group_known=complete or key in associations or key not in unresolved,
                                  zone=vm.zones[0] if vm.zones else None, protected=_protected(vm)))
    return tuple(sorted(instances, key=_instance_order)), lookup_error


def _lookup_associations(client, subscription_id, group_of):
    """Every Uniform instance that a group of the subscription lists, mapped to that group; the groups
    searched; and the error that stopped the search. Groups shared with the subscription from another one
    (listed by id only) are read one by one through `group_of`."""
    from azure.core.exceptions import HttpResponseError
    try:
        groups = list(client.capacity_reservation_groups.list_by_subscription(
            expand='virtualMachineScaleSetVMs/$ref'))
        shared = [g.id for g in client.capacity_reservation_groups.list_by_subscription(
            resource_ids_only='SharedWithSubscription')]
    except HttpResponseError as ex:
        error = read_error(f'/subscriptions/{subscription_id}', ex)
        logger.warning("Could not list the capacity reservation groups of subscription %s to find the groups of "
                       "instances that aren't on the latest model: %s", subscription_id, error.message)
        return {}, set(), error
    found = {normalize_id(vm.id): group.id for group in groups for vm in group.virtual_machines_associated or ()}
    searched = {normalize_id(group.id) for group in groups}
    for group_id in shared:
        if normalize_id(group_id) in searched:
            continue
        group, error = group_of(group_id)
        if error is not None:
            return found, searched, error
        found.update({normalize_id(vm_id): group.id for vm_id in group.associated_ids})
        searched.add(normalize_id(group_id))
    return found, searched, None


def read_group(client, group_id):
    """The group with its reservations, or the error that kept it from being read."""
    from azure.core.exceptions import HttpResponseError
    parts = _parse(group_id)
    try:
        answer = {}
        group = client.capacity_reservation_groups.get(parts['resource_group'], parts['name'],
                                                       expand='instanceView', api_version=BLOCK_API_VERSION,
                                                       cls=_with_json(answer))
        reservations = list(client.capacity_reservations.list_by_capacity_reservation_group(
            parts['resource_group'], parts['name']))
        reservation_type = (answer.get('properties') or {}).get('reservationType')
        schedules = {cr.name.lower(): _schedule(client, parts, cr.name) for cr in reservations} \
            if reservation_type == 'Block' else {}
    except HttpResponseError as ex:
        # no warning here: the plan's refusal or the status result names the error, once
        return None, read_error(group_id, ex)
    return Group(id=group.id,
                 associated_ids=tuple(vm.id for vm in group.virtual_machines_associated or ()),
                 reservations=_reservations(group, reservations, schedules), location=group.location,
                 zones=tuple(group.zones or ()), reservation_type=reservation_type), None


def _with_json(answer):
    """An SDK `cls` callback that also keeps the answer's JSON in `answer`."""
    def keep(pipeline_response, deserialized, _headers):
        answer.update(pipeline_response.http_response.json() or {})
        return deserialized
    return keep


def _schedule(client, parts, name):
    """A Block reservation's (start, end), read at the api-version that has them."""
    answer = {}
    client.capacity_reservations.get(parts['resource_group'], parts['name'], name, api_version=BLOCK_API_VERSION,
                                     cls=_with_json(answer))
    schedule = (answer.get('properties') or {}).get('scheduleProfile') or {}
    return (schedule['start'], schedule['end']) if schedule.get('start') and schedule.get('end') else None


def _reservations(group, reservations, schedules=None):
    """Each reservation with its allocated count, which only the group's instance view has (by name)."""
    allocated = {}
    for view in (group.instance_view.capacity_reservations or ()) if group.instance_view else ():
        usage = view.utilization_info
        allocated[view.name.lower()] = len(usage.virtual_machines_allocated or ()) if usage else 0
    result = (Reservation(id=cr.id, name=cr.name, sku=cr.sku.name, zone=cr.zones[0] if cr.zones else None,
                          capacity=cr.sku.capacity or 0, allocated=allocated.get(cr.name.lower()),
                          associated=len(cr.virtual_machines_associated or ()),
                          fault_domain_count=cr.platform_fault_domain_count,
                          schedule=(schedules or {}).get(cr.name.lower()))
              for cr in reservations)
    return tuple(sorted(result, key=lambda cr: (cr.sku.lower(), cr.zone or '', cr.name.lower())))


def read_error(resource_id, ex):
    error = ex.error
    return ReadError(resource_id=resource_id, status_code=ex.status_code,
                     code=error.code if error else None,
                     message=error.message if error and error.message else str(ex))


def autoscale_settings(settings, scale_set):
    """Names of the enabled autoscale settings of the scale set's resource group that target it; [] when they
    cannot be read (the command does not depend on them)."""
    from azure.core.exceptions import HttpResponseError
    try:
        found = list(settings.list_by_resource_group(scale_set.resource_group))
    except HttpResponseError as ex:
        logger.info('Could not read the autoscale settings of resource group %s: %s', scale_set.resource_group, ex)
        return []
    return sorted(s.name for s in found if s.enabled is not False and normalize_id(s.target_resource_uri) ==
                  normalize_id(scale_set.id))


def read_members(client, scale_set, pages=None):
    """What a step's read-back needs of every member, keyed as steps name them: {key: Instance} with power state
    and (Uniform) latest model; associations are not resolved here. Flexible members come from one paged list;
    `pages`, a list, gets the number of its pages."""
    if scale_set.member_ids:
        return {m.name: m for m in read_vms(client, scale_set.member_ids)}
    if scale_set.orchestration_mode == FLEXIBLE:
        return {m.name: m for m in _flexible_members(client, scale_set.resource_group, scale_set.id, pages)}
    # only the instance views: a whole instance takes several times longer to deserialize
    vms = client.virtual_machine_scale_set_vms.list(scale_set.resource_group, scale_set.name, expand='instanceView',
                                                    select='instanceView')
    return {vm.instance_id: Instance(id=vm.id, name=vm.name, instance_id=vm.instance_id,
                                     power_state=_power_state(vm.instance_view),
                                     latest_model_applied=vm.latest_model_applied, group_id=None, group_known=False)
            for vm in vms}


def read_member(client, vm_id):
    """One Flexible member, with its instance view (one read)."""
    parts = _parse(vm_id)
    return _members(client, [client.virtual_machines.get(parts['resource_group'], parts['name'],
                                                         expand='instanceView')])[0]


def read_power(client, vm_id):
    """One Flexible member's power state, from its instance view."""
    parts = _parse(vm_id)
    return _power_state(client.virtual_machines.instance_view(parts['resource_group'], parts['name']))


def read_rolling_upgrade(client, scale_set):
    """(status code, failed instance count, error message) of the scale set's latest rolling upgrade, or None."""
    from azure.core.exceptions import ResourceNotFoundError
    try:
        latest = client.virtual_machine_scale_set_rolling_upgrades.get_latest(scale_set.resource_group,
                                                                              scale_set.name)
    except ResourceNotFoundError:
        return None
    code = latest.running_status.code if latest.running_status else None
    failed = latest.progress.failed_instance_count if latest.progress else None
    error = latest.error.message if latest.error else None
    return code, failed, error


def _seconds(duration):
    """An ISO 8601 duration (PT5S, PT1M30S) in seconds; 0 when absent or unreadable."""
    import re
    m = re.match(r'^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$', (duration or '').strip(), re.I)
    if not m:
        return 0.0
    d, h, mi, sec = (float(x or 0) for x in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + sec


def _protected(vm):
    policy = getattr(vm, 'protection_policy', None)
    return bool(policy and policy.protect_from_scale_set_actions)


def _ephemeral(storage_profile):
    os_disk = storage_profile.os_disk if storage_profile else None
    return bool(os_disk and os_disk.diff_disk_settings and os_disk.diff_disk_settings.option)


def _group_id(capacity_reservation):
    group = capacity_reservation.capacity_reservation_group if capacity_reservation else None
    return group.id if group else None


def _power_state(instance_view):
    for status in (instance_view.statuses or ()) if instance_view else ():
        if (status.code or '').startswith('PowerState/'):
            return status.code.split('/', 1)[1]
    return None


def _instance_order(instance):
    return int(instance.instance_id) if (instance.instance_id or '').isdigit() else -1, instance.name.lower()


def _parse(resource_id):
    from azure.mgmt.core.tools import parse_resource_id
    return parse_resource_id(resource_id)
