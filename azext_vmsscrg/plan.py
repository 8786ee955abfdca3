# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Pure planning: from a Snapshot and an Intent, the ordered steps that attach or detach a scale set.

No requests and no SDK here: the same input always gives the same plan, and every check that can
refuse the command happens here, before anything is written. Each step carries the reason it is
needed: the documented procedure step or the Azure rule it satisfies, citing the public documentation.
"""
import math
from dataclasses import dataclass, field, replace
from typing import FrozenSet, Optional, Tuple

from azure.cli.core.azclierror import (InvalidArgumentValueError, ResourceNotFoundError, UnclassifiedUserFault,
                                       ValidationError)

from .snapshot import FLEXIBLE, normalize_id, resource_name, same_id

# Actions, in the order a plan may use them.
SET_CAPACITY = 'setReservationCapacity'
DEALLOCATE = 'deallocate'
SET_MODEL_GROUP = 'setModelGroup'
WAIT_UPGRADE = 'waitForUpgrade'
UPGRADE = 'upgradeInstances'
SET_VM_GROUP = 'setVmGroup'
START = 'start'

DEALLOCATE_STRATEGY = 'deallocate'
ZERO_CAPACITY_STRATEGY = 'zero-capacity'
STRATEGIES = (DEALLOCATE_STRATEGY, ZERO_CAPACITY_STRATEGY)
DEFAULT_MAX_UNAVAILABLE = 20  # percent, like the rolling upgrade policy's maxBatchInstancePercent default
NOT_ALLOCATED = ('deallocated', 'deallocating')
RESTARTED = ('running', 'starting')

LEARN = 'https://learn.microsoft.com/azure/virtual-machines/'
DETACH_DOC = ('"Remove a virtual machine scale set from a capacity reservation group" '
              f'({LEARN}capacity-reservation-remove-virtual-machine-scale-set)')
ATTACH_DOC = ('"Associate a virtual machine scale set to a capacity reservation group" '
              f'({LEARN}capacity-reservation-associate-virtual-machine-scale-set)')
FLEX_DOC = ('"Associate a virtual machine scale set with Flexible orchestration to a capacity reservation group" '
            f'({LEARN}capacity-reservation-associate-virtual-machine-scale-set-flex)')
OVERVIEW_DOC = f'"Capacity reservation overview" ({LEARN}capacity-reservation-overview)'
UPGRADE_DOC = '"Upgrade policies for Virtual Machine Scale Sets" (https://learn.microsoft.com/azure/' \
              'virtual-machine-scale-sets/virtual-machine-scale-sets-upgrade-policy)'
PROTECTION_DOC = '"Instance protection for Azure Virtual Machine Scale Set instances" (https://learn.microsoft.com/' \
                 'azure/virtual-machine-scale-sets/virtual-machine-scale-sets-instance-protection)'


@dataclass(frozen=True)
class Intent:
    action: str  # 'attach' or 'detach'
    group_id: Optional[str] = None  # attach: the group to attach to
    strategy: str = DEALLOCATE_STRATEGY
    leave_deallocated: bool = False
    max_unavailable: int = DEFAULT_MAX_UNAVAILABLE
    force: bool = False
    restore: FrozenSet[str] = frozenset()  # members an interrupted run found running, to start again


@dataclass(frozen=True)
class Step:  # pylint: disable=too-many-instance-attributes  # its fields are its JSON
    action: str
    targets: Tuple[str, ...]  # instance ids (Uniform), VM names (Flexible), reservation ids, or the scale set id
    reason: str
    group: Optional[str] = None  # the group SET_MODEL_GROUP / SET_VM_GROUP sets (None clears)
    capacity: Optional[int] = None  # SET_CAPACITY
    previous: Optional[int] = None  # SET_CAPACITY: the reservation's capacity before, to give back
    batch: Optional[str] = None  # "2/5" for batched member work
    disruptive: bool = False
    whole_set: bool = False  # DEALLOCATE of a Uniform set: sent for the whole set, instances added since included

    def to_dict(self):
        out = {'action': self.action, 'targets': list(self.targets), 'count': len(self.targets),
               'reason': self.reason}
        if self.action in (SET_MODEL_GROUP, SET_VM_GROUP):
            out['capacityReservationGroup'] = self.group
        if self.action == SET_CAPACITY:
            out['capacity'] = self.capacity
            out['previousCapacity'] = self.previous
        if self.batch:
            out['batch'] = self.batch
        return out


@dataclass(frozen=True)
class Plan:
    steps: Tuple[Step, ...]
    restore: Tuple[str, ...] = ()  # members to have running at the end
    warnings: Tuple[str, ...] = ()
    zeroed: Tuple[str, ...] = field(default=())  # reservations set to capacity 0
    unguaranteed: Tuple[str, ...] = ()  # running members started again with no reservation guaranteeing capacity

    def is_noop(self):
        return not self.steps

    @property
    def disruptive(self):
        return any(step.disruptive for step in self.steps)

    def deallocated(self):
        """The members this plan deallocates."""
        return sorted({t for s in self.steps if s.action == DEALLOCATE for t in s.targets})

    def largest_batch(self):
        """The most members one step takes down at once."""
        return max((len(s.targets) for s in self.steps if s.action == DEALLOCATE), default=0)

    def left_deallocated(self):
        """The members this plan deallocates and does not start again (stopped ones, or all with
        --leave-deallocated)."""
        return [k for k in self.deallocated() if k not in self.restore]

    def disruption(self):
        deallocated = self.deallocated()
        started = {t for s in self.steps if s.action == START for t in s.targets}
        return {'instancesDeallocated': len(deallocated), 'instancesStartedAgain': len(started),
                'instancesStartedWithoutReservation': len(self.unguaranteed),
                'instancesLeftDeallocated': self.left_deallocated(), 'reservationsSetToZero': list(self.zeroed)}


def member_key(instance):
    """How steps name a member: the instance id of a Uniform instance, the VM name of a Flexible member."""
    return instance.instance_id if instance.instance_id is not None else instance.name


def allocated(instance):
    return instance.power_state not in NOT_ALLOCATED


def make_plan(snapshot, intent):
    _check_intent(intent)
    _check_settled(snapshot)
    unknown = [i.name for i in snapshot.instances if not i.group_known]
    if unknown:
        raise UnclassifiedUserFault(
            f"Cannot tell which capacity reservation group {len(unknown)} of the instances ({listed(unknown)}) are on, "
            "so no safe plan can be made.",
            recommendation="Get read access to the groups named in 'az vmss capacity-reservation status', then "
                           "run this command again.")
    plan = _detach(snapshot, intent) if intent.action == 'detach' else _attach(snapshot, intent)
    return _with_risk(snapshot, intent, plan)


def _with_risk(snapshot, intent, plan):
    """The members this plan starts again on on-demand capacity, which may have run out, and a warning naming them:
    a detach by deallocation starts every member it moves without a reservation; an attach starts what exceeds the
    reservation's capacity without one."""
    started = [k for s in plan.steps if s.action == START for k in s.targets]
    if intent.action == 'detach':
        risky = tuple(started) if any(s.action == DEALLOCATE for s in plan.steps) else ()
    else:
        risky = _beyond_reservation(snapshot, intent.group_id, started)
    if not risky:
        return plan
    back = ' and brings those still down back to the group they came from' if intent.action == 'detach' else ''
    text = (f"{len(risky)} running member(s) will be started again without a capacity reservation guarantee: where "
            "on-demand capacity for their size is short, Azure refuses the start (AllocationFailed, or "
            "ZonalAllocationFailed in a zone). The command then retries for up to vmsscrg.allocation_retry_timeout "
            f"seconds{back}.")
    group = snapshot.group
    if intent.action == 'detach' and group is not None:
        others = _others(snapshot)
        text += (f' --strategy zero-capacity moves them without a restart ({DETACH_DOC}).' if not others else
                 f' --strategy zero-capacity would move them without a restart, but group {resource_name(group.id)} is '
                 f'shared with {len(others)} other virtual machine(s), which would lose their reservation.')
    return replace(plan, unguaranteed=risky, warnings=plan.warnings + (text,))


def _beyond_reservation(snapshot, group_id, started):
    """Of the members an attach starts again, those beyond what their reservation in the target group holds (the
    members that keep running count first, then those started, in order)."""
    group = snapshot.target or snapshot.group
    if group is None or not same_id(group.id, group_id) or not started:
        return ()
    size = snapshot.scale_set.sku_name
    on_it = {}  # reservation id -> members that will run on it
    for i in sorted(snapshot.instances, key=lambda i: member_key(i) in started):
        r = _reservation_for(group, i.size or size, i.zone)
        if r is not None and (allocated(i) or member_key(i) in started):
            on_it.setdefault(r.id, []).append(i)
    risky = set()
    for r in group.reservations:
        members = on_it.get(r.id, [])
        ours_now = sum(1 for i in members if allocated(i) and same_id(i.group_id, group.id))
        excess = max(0, (r.allocated or 0) - ours_now) + len(members) - (r.capacity or 0)
        if excess > 0:
            risky |= {member_key(i) for i in members[-excess:] if member_key(i) in started}
    return tuple(k for k in started if k in risky)


def _check_settled(snapshot):
    """Refuse while another operation is running on the scale set or a member is changing power state (the
    command has waited for it first, up to vmsscrg.settle_timeout seconds)."""
    scale_set = snapshot.scale_set
    if snapshot.busy:
        raise ValidationError(
            f"Scale set '{scale_set.name}' {snapshot.busy}: another operation is running on it.",
            recommendation=(f'Wait for it to finish (az vmss wait -g {scale_set.resource_group} -n {scale_set.name} '
                            '--updated), then run this command again; or let the command wait longer: az config set '
                            'vmsscrg.settle_timeout=SECONDS.'))


def _check_intent(intent):
    if intent.strategy not in STRATEGIES:
        raise InvalidArgumentValueError(f"Invalid --strategy '{intent.strategy}'.",
                                        recommendation=f"Use one of: {', '.join(STRATEGIES)}.")
    if not 1 <= intent.max_unavailable <= 100:
        raise InvalidArgumentValueError('--max-unavailable must be a percentage from 1 to 100, not '
                                        f'{intent.max_unavailable}.')


# --- detach -------------------------------------------------------------------------------------
def _detach(snapshot, intent):
    scale_set = snapshot.scale_set
    on_group = [i for i in snapshot.instances if i.group_id]
    model_on_group = scale_set.has_vm_profile and scale_set.model_group_id
    if not model_on_group and not on_group:
        return _restart_only(snapshot, intent)
    if intent.strategy == ZERO_CAPACITY_STRATEGY:
        return _detach_zero(snapshot, intent, on_group)
    if scale_set.orchestration_mode == FLEXIBLE:
        return _flexible(snapshot, intent, None, on_group)
    return _uniform_deallocated(snapshot, intent, None, on_group,
                                reason=(f'{DETACH_DOC}, option 1, step 1: the model\'s group can change only while no '
                                        'instance is allocated'))


def _restart_only(snapshot, intent):
    """Nothing left to move: only start again what an interrupted run left deallocated."""
    if intent.leave_deallocated:
        return Plan(())
    again = tuple(k for k in _restore(snapshot, intent) if _is_stopped_now(snapshot, k))
    if not again:
        return Plan(())
    return Plan((Step(START, again, 'start again the members an interrupted run left deallocated'),), again)


def _ephemeral(snapshot, to_deallocate):
    """The members of `to_deallocate` that Azure cannot deallocate (ephemeral OS disk); True when only the model
    says so."""
    members = [i for i in to_deallocate if i.ephemeral_os_disk]
    whole = snapshot.scale_set.ephemeral_os_disk and any(allocated(i) for i in snapshot.instances)
    return members or whole


def _refuse_ephemeral(snapshot, intent, to_deallocate):
    if not _ephemeral(snapshot, to_deallocate):
        return
    scale_set = snapshot.scale_set
    members = [i for i in to_deallocate if i.ephemeral_os_disk]
    if intent.action == 'detach':
        others = _others(snapshot)
        fix = ("Use --strategy zero-capacity: it sets the group's reservations to capacity 0 and moves the instances "
               "while they keep running.")
        if others and not intent.force:
            fix = ("Use --strategy zero-capacity --force: it sets the group's reservations to capacity 0 and moves "
                   "the instances while they keep running. The group is shared: this also takes the reservation away "
                   f"from {len(others)} other virtual machine(s) ({listed([_short(o) for o in others])}); the command "
                   "prints how to give the capacity back.")
    else:
        fix = ("Instances with an ephemeral OS disk can only be re-created: scale the set in to 0 (az vmss scale -g "
               f"{scale_set.resource_group} -n {scale_set.name} --new-capacity 0), run this command again, then scale "
               "it back out; new instances are created on the group.")
    raise ValidationError(
        f"Scale set '{scale_set.name}' uses an ephemeral OS "
        f"disk{(f' (members {_members(members)})' if members else '')}, and Azure cannot deallocate instances with one "
        f"({DETACH_DOC}).",
        recommendation=fix)


def _others(snapshot):
    """Virtual machines on the scale set's group that are not the scale set's."""
    group = snapshot.group
    if group is None:
        return []
    ours = {normalize_id(i.id) for i in snapshot.instances}
    return sorted(vm for vm in group.associated_ids if normalize_id(vm) not in ours)


def _detach_zero(snapshot, intent, on_group):
    """Option 2 of the document: reservations to 0, then the association changes with instances running."""
    scale_set = snapshot.scale_set
    groups = {normalize_id(i.group_id) for i in on_group}
    if scale_set.model_group_id:
        groups.add(normalize_id(scale_set.model_group_id))
    group = snapshot.group
    if group is None or groups - {normalize_id(group.id)}:
        raise ValidationError("--strategy zero-capacity needs the scale set and its instances on one readable "
                              "capacity reservation group.",
                              recommendation='Use --strategy deallocate, or run status to see the groups involved.')
    others = _others(snapshot)
    zeroed = tuple(r for r in group.reservations if r.capacity and _consumed(r, scale_set, snapshot.instances))
    if others and zeroed and not intent.force:
        force = 'add --force if those machines may lose their reservation (the command prints how to give it back)'
        if _ephemeral(snapshot, [i for i in snapshot.instances if allocated(i)]):
            fix = (f"A{force[1:]}; --strategy deallocate is not possible: Azure cannot deallocate instances with an "
                   "ephemeral OS disk.")
        else:
            fix = f"Use --strategy deallocate, which leaves the reservations as they are, or {force}."
        raise ValidationError(
            f"Setting the reservations of group '{resource_name(group.id)}' to capacity 0 would also take the "
            f"reservation away from {len(others)} other virtual machine(s): {listed([_short(o) for o in others])}.",
            recommendation=fix)
    steps = [Step(SET_CAPACITY, (r.id,), (f'{DETACH_DOC}, option 2, step 1: an allocated instance may leave its '
                                          'reservation only at capacity 0'), capacity=0, previous=r.capacity)
             for r in zeroed]
    zeroed = tuple(r.id for r in zeroed)
    if scale_set.orchestration_mode == FLEXIBLE:
        if scale_set.has_vm_profile and scale_set.model_group_id:
            steps.append(_model_step(snapshot, None, f'{DETACH_DOC}, option 2, step 2'))
        if on_group:
            steps.append(Step(SET_VM_GROUP, tuple(member_key(i) for i in on_group),
                              f'each Flexible member changes through its own VM: {FLEX_DOC}'))
        return Plan(tuple(steps), zeroed=zeroed)
    if scale_set.model_group_id:
        steps.append(_model_step(snapshot, None, f'{DETACH_DOC}, option 2, step 2'))
    steps += _upgrade_steps(snapshot, intent, on_group, model_changes=bool(scale_set.model_group_id))
    return Plan(tuple(steps), zeroed=zeroed)


def _consumed(reservation, scale_set, instances):
    if not _same_size(reservation.sku, scale_set.sku_name) and not any(
            _same_size(reservation.sku, i.size) for i in instances):
        return False
    return reservation.zone is None or reservation.zone in scale_set.zones or any(
        i.zone == reservation.zone for i in instances)


# --- attach -------------------------------------------------------------------------------------
def _attach(snapshot, intent):
    scale_set = snapshot.scale_set
    target = snapshot.target or (snapshot.group if snapshot.group and same_id(snapshot.group.id, intent.group_id)
                                 else None)
    if target is None:
        error = snapshot.target_error
        if error is None or error.status_code == 404:
            raise ResourceNotFoundError(f"Capacity reservation group '{intent.group_id}' was not found.",
                                        recommendation="Check --capacity-reservation-group: 'az capacity reservation "
                                                       "group list -o table' lists the groups you can use.")
        raise UnclassifiedUserFault(f"Cannot read capacity reservation group '{intent.group_id}': {error.message}")
    _validate_attach(snapshot, target)
    _validate_members(snapshot)
    wanted = target.id
    off_target = [i for i in snapshot.instances if not same_id(i.group_id, wanted)]
    model_off = scale_set.has_vm_profile and not same_id(scale_set.model_group_id, wanted)
    if not model_off and not off_target:
        return _restart_only(snapshot, intent)
    warnings = _capacity_warnings(snapshot, target)
    if scale_set.orchestration_mode == FLEXIBLE:
        plan = _flexible(snapshot, intent, wanted, off_target)
    elif _in_place(snapshot, wanted):
        # a zonal scale set on no group (or on the target already: a re-run) is attached in place
        steps = [_model_step(snapshot, wanted, ('a zonal scale set is attached in place, the model first: '
                                                f'{ATTACH_DOC}'))] if model_off else []
        steps += _upgrade_steps(snapshot, intent, off_target, model_changes=model_off)
        restore = () if intent.leave_deallocated else _restore(snapshot, intent)
        again = tuple(k for k in restore if _is_stopped_now(snapshot, k))
        if again:
            steps.append(Step(START, again, 'start again the members an interrupted run left deallocated'))
        plan = Plan(tuple(steps), restore)
    else:
        switching = _elsewhere(scale_set.model_group_id, wanted) or any(
            _elsewhere(i.group_id, wanted) for i in snapshot.instances)
        why = ('switching groups needs every instance deallocated: {}' if switching else
               'a regional scale set is attached while its instances are deallocated: {}').format(ATTACH_DOC)
        plan = _uniform_deallocated(snapshot, intent, wanted, off_target, reason=why)
    return Plan(plan.steps, plan.restore, tuple(warnings) + plan.warnings, plan.zeroed)


def _validate_attach(snapshot, group):
    scale_set = snapshot.scale_set
    name = resource_name(group.id)
    fix = 'Choose another --capacity-reservation-group, or change the scale set.'
    if group.location and scale_set.location and _region(group.location) != _region(scale_set.location):
        raise ValidationError(f"Group '{name}' is in {group.location}, the scale set in {scale_set.location}: they "
                              "must be in the same region.", recommendation=fix)
    zoned = [i for i in snapshot.instances if i.zone]
    unzoned = [i for i in snapshot.instances if not i.zone] if scale_set.orchestration_mode == FLEXIBLE else []
    zones = set(scale_set.zones) | {i.zone for i in zoned}
    # a group is zonal or regional; a Flexible scale set may hold members of both kinds
    mixed = ("A group is either zonal or regional, so members in a zone and members without one cannot share a group: "
             "delete {} (or re-create them {}), then run this command again.")
    if group.zones and not zones:
        raise ValidationError(f"Group '{name}' is zonal ({', '.join(group.zones)}) and the scale set is regional: a "
                              "regional scale set needs a regional group.", recommendation=fix)
    if group.zones and unzoned:
        raise ValidationError(f"Member(s) {_members(unzoned)} of scale set '{scale_set.name}' have no zone, and group "
                              f"'{name}' is zonal ({', '.join(group.zones)}): a zonal group's reservations serve only "
                              f"VMs in their zones ({OVERVIEW_DOC}).",
                              recommendation=mixed.format(_members(unzoned), 'in a zone'))
    if zones and not group.zones:
        if scale_set.zones:
            raise ValidationError(f"Group '{name}' is regional and the scale set is zonal "
                                  f"({', '.join(sorted(zones))}): a regional group serves only VMs deployed without a "
                                  f"zone ({OVERVIEW_DOC}).", recommendation=fix)
        raise ValidationError(f"Member(s) {_members(zoned)} of scale set '{scale_set.name}' are in zone(s) "
                              f"{', '.join(sorted(zones))}, and group '{name}' is regional: a regional group serves "
                              f"only VMs deployed without a zone ({OVERVIEW_DOC}).",
                              recommendation=mixed.format(_members(zoned), 'without a zone') if unzoned else
                              "Choose a zonal --capacity-reservation-group that covers zones "
                              f"{', '.join(sorted(zones))}.")
    if zones - set(group.zones):
        raise ValidationError(f"Group '{name}' covers zones {', '.join(group.zones)}, not the scale set's zones "
                              f"{', '.join(sorted(zones))}.", recommendation=fix)
    if scale_set.orchestration_mode != FLEXIBLE and scale_set.single_placement_group:
        raise ValidationError(f"Scale set '{scale_set.name}' has singlePlacementGroup=true, which capacity "
                              f"reservations do not support ({OVERVIEW_DOC}).",
                              recommendation=(f"Set it to false first: az vmss update -g {scale_set.resource_group} -n "
                                              f"{scale_set.name} --set singlePlacementGroup=false"))
    if scale_set.spot:
        raise ValidationError(f"Scale set '{scale_set.name}' uses Spot priority, which capacity reservations do not "
                              f"support ({OVERVIEW_DOC}).", recommendation=fix)
    for size, zone in sorted(_needs(snapshot), key=lambda p: (p[0] or '', p[1] or '')):
        match = _reservation_for(group, size, zone)
        if match is None:
            raise ValidationError(f"Group '{name}' has no reservation for size "
                                  f"{size}{(f' in zone {zone}' if zone else '')}.",
                                  recommendation=(f"Create one: az capacity reservation create -g {_rg(group.id)} "
                                                  f"-c {name} -n MyReservation --sku {size} --capacity N"
                                                  f"{(f' --zone {zone}' if zone else '')}"))
        if scale_set.fault_domain_count and match.fault_domain_count and \
                scale_set.fault_domain_count > match.fault_domain_count:
            raise ValidationError(f"Scale set '{scale_set.name}' spreads over {scale_set.fault_domain_count} fault "
                                  f"domains, more than reservation '{match.name}' supports "
                                  f"({match.fault_domain_count}).", recommendation=fix)


def _needs(snapshot):
    """(size, zone) pairs the scale set's instances (and future instances) need reservations for."""
    scale_set = snapshot.scale_set
    needs = {(i.size or scale_set.sku_name, i.zone) for i in snapshot.instances}
    if scale_set.has_vm_profile and scale_set.sku_name:
        needs |= {(scale_set.sku_name, z) for z in scale_set.zones} if scale_set.zones else {
            (scale_set.sku_name, None)}
    return {(size, zone) for size, zone in needs if size}


def _reservation_for(group, size, zone):
    for r in group.reservations:
        if _same_size(r.sku, size) and (r.zone is None or r.zone == zone):
            return r
    return None


def _capacity_warnings(snapshot, group):
    """Overallocation, per reservation: what this scale set will run on it against what others leave."""
    size = snapshot.scale_set.sku_name
    demand, ours_now = {}, {}
    for i in snapshot.instances:
        r = _reservation_for(group, i.size or size, i.zone)
        if r is not None and allocated(i):
            demand[r.id] = demand.get(r.id, 0) + 1
            if same_id(i.group_id, group.id):
                ours_now[r.id] = ours_now.get(r.id, 0) + 1
    warnings = []
    for r in group.reservations:
        others = max(0, (r.allocated or 0) - ours_now.get(r.id, 0))
        if r.id in demand and others + demand[r.id] > r.capacity:
            warnings.append(f"Reservation '{r.name}' ({r.sku}{(f', zone {r.zone}' if r.zone else '')}) has capacity "
                            f"{r.capacity} and {others} other allocated virtual machine(s); the {demand[r.id]} running "
                            "instance(s) of this scale set will overallocate it by "
                            f"{others + demand[r.id] - r.capacity}: the excess runs without a capacity guarantee.")
    return warnings


# --- shared shapes ------------------------------------------------------------------------------
def _uniform_deallocated(snapshot, intent, wanted, to_move, reason):
    """Deallocate the allocated instances, change the model, bring instances up to date, start again."""
    scale_set = snapshot.scale_set
    model_changes = not same_id(scale_set.model_group_id, wanted)
    to_stop = [i for i in (snapshot.instances if model_changes else to_move) if allocated(i)]
    _refuse_ephemeral(snapshot, intent, to_stop)
    steps = []
    unprotected = tuple(member_key(i) for i in to_stop if not i.protected)
    if unprotected:  # the whole set, as the document does (az vmss deallocate): an instance added since goes too
        steps.append(Step(DEALLOCATE, unprotected, reason, disruptive=True, whole_set=model_changes))
    protected = tuple(member_key(i) for i in to_stop if i.protected)
    if protected:
        steps.append(Step(DEALLOCATE, protected, (f"{reason}; protected from scale set actions, so named one by one: "
                                                  f"an operation on the whole scale set skips them ({PROTECTION_DOC})"),
                          disruptive=True))
    if model_changes:
        steps.append(_model_step(snapshot, wanted,
                                 f'{DETACH_DOC}, option 1, step 2: change the model\'s group' if wanted is None
                                 else f"associate the scale set's model with the group: {ATTACH_DOC}"))
    stopped = {member_key(i) for i in to_stop}
    steps += _upgrade_steps(snapshot, intent, to_move, model_changes, stopped)
    restore = _restore(snapshot, intent)
    again = tuple(k for k in restore if k in stopped or _is_stopped_now(snapshot, k))
    if again and not intent.leave_deallocated:
        steps.append(Step(START, again, 'start again every instance that was running before'))
    return Plan(tuple(steps), () if intent.leave_deallocated else restore)


def _upgrade_steps(snapshot, intent, to_move, model_changes, stopped=()):
    """Bring Uniform instances to the model by upgrade policy (UPGRADE_DOC).

    Instances that are deallocated at that point are upgraded in one go; running ones in batches of
    --max-unavailable, since an upgrade may restart them. No upgrade policy reaches an instance protected from
    scale set actions: under Automatic and Rolling they are upgraded explicitly, by instance id (PROTECTION_DOC).
    """
    policy = snapshot.scale_set.upgrade_mode
    keys = tuple(member_key(i) for i in snapshot.instances)
    pending = keys if model_changes else tuple(member_key(i) for i in to_move)
    down = {member_key(i) for i in snapshot.instances if not allocated(i)} | set(stopped)
    if model_changes and policy in ('Automatic', 'Rolling'):
        protected = {member_key(i) for i in snapshot.instances if i.protected}
        waited = tuple(k for k in keys if k not in protected)
        steps = [Step(WAIT_UPGRADE, waited, (f"{policy} upgrade policy: Azure brings every instance to the new "
                                             f"model{' in batches' if policy == 'Rolling' else ''} ({UPGRADE_DOC})"))
                 ] if waited else []
        why = ("protected from scale set actions, so no upgrade policy reaches it: upgraded explicitly by instance id "
               f"(manualupgrade), a user-initiated instance operation ({PROTECTION_DOC})")
        return steps + _batched_upgrades(tuple(k for k in keys if k in protected), down, why, intent, len(keys))
    why = (f"{policy if model_changes else 'Any'} upgrade policy: each instance is brought to the latest model "
           "(manualupgrade)")
    return _batched_upgrades(pending, down, why, intent, len(keys))


def _batched_upgrades(pending, down, why, intent, population):
    """UPGRADE steps: the deallocated instances at once, the running ones in batches of --max-unavailable."""
    idle = tuple(k for k in pending if k in down)
    steps = [Step(UPGRADE, idle, why)] if idle else []
    for label, batch in batches(tuple(k for k in pending if k not in down), intent.max_unavailable, population):
        steps.append(Step(UPGRADE, batch, why, batch=label))
    return steps


def _validate_members(snapshot):
    """What the association rules check on each member, before anything is written."""
    spot = [i for i in snapshot.instances if i.spot]
    if spot:
        raise ValidationError(
            f"Member(s) {_members(spot)} of scale set '{snapshot.scale_set.name}' use Spot priority, which capacity "
            f"reservations do not support ({OVERVIEW_DOC}).",
            recommendation='Remove the Spot members from the scale set (or make them Regular), then run this '
                           'command again.')


def _members(instances):
    return listed([i.name for i in instances])


def listed(names, limit=10):
    """The first `limit` names, and how many more there are: 'a, b, c and 7 more'."""
    names = list(names)
    return ', '.join(names[:limit]) + (f' and {len(names) - limit} more' if len(names) > limit else '')


def _in_place(snapshot, wanted):
    """A zonal Uniform scale set whose model and instances hold no group but `wanted` changes in place."""
    scale_set = snapshot.scale_set
    return bool(scale_set.zones) and not _elsewhere(scale_set.model_group_id, wanted) and not any(
        _elsewhere(i.group_id, wanted) for i in snapshot.instances)


def _elsewhere(group_id, wanted):
    """On a group, and not on `wanted`."""
    return bool(group_id) and not same_id(group_id, wanted)


def _flexible(snapshot, intent, wanted, to_move):
    """The profile (if any), then every member through its own VM: in place when allowed, else in batches."""
    scale_set = snapshot.scale_set
    steps = []
    if scale_set.has_vm_profile and not same_id(scale_set.model_group_id, wanted):
        steps.append(_model_step(snapshot, wanted, f"the profile governs VMs created from now on: {FLEX_DOC}"))
    idle = [i for i in to_move if not allocated(i)]
    in_place = [i for i in to_move if allocated(i) and wanted and i.zone and not i.group_id]
    moving = [i for i in to_move if allocated(i) and i not in in_place]
    _refuse_ephemeral(snapshot, intent, moving)
    if idle:
        steps.append(Step(SET_VM_GROUP, tuple(member_key(i) for i in idle), ("deallocated members change freely: "
                                                                             f"{OVERVIEW_DOC}"), group=wanted))
    if in_place:
        steps.append(Step(SET_VM_GROUP, tuple(member_key(i) for i in in_place), ("zonal members are attached in "
                                                                                 f"place: {FLEX_DOC}"), group=wanted))
    restore = _restore(snapshot, intent)
    for label, batch in batches(tuple(member_key(i) for i in moving), intent.max_unavailable,
                                len(snapshot.instances)):
        why = (f"an allocated member must be deallocated to {'leave its group' if wanted is None else 'change group'} "
               f"({FLEX_DOC if wanted else DETACH_DOC}); at most {intent.max_unavailable}% of the members at a time")
        steps.append(Step(DEALLOCATE, batch, why, batch=label, disruptive=True))
        steps.append(Step(SET_VM_GROUP, batch, f"associate each VM: {FLEX_DOC}" if wanted else
                          'clear each VM\'s association: capacityReservationGroup.id null', group=wanted,
                          batch=label))
        again = tuple(k for k in batch if k in restore)
        if again and not intent.leave_deallocated:
            steps.append(Step(START, again, 'start again the members of this batch that were running', batch=label))
    if not intent.leave_deallocated:
        moved = {k for s in steps if s.action == START for k in s.targets}
        rest = tuple(k for k in restore if k not in moved and _is_stopped_now(snapshot, k))
        if rest:
            steps.append(Step(START, rest, 'start again members an interrupted run left deallocated'))
    return Plan(tuple(steps), () if intent.leave_deallocated else restore)


def _is_stopped_now(snapshot, key):
    return any(member_key(i) == key and not allocated(i) for i in snapshot.instances)


def _model_step(snapshot, wanted, reason):
    return Step(SET_MODEL_GROUP, (snapshot.scale_set.id,), reason, group=wanted)


def _restore(snapshot, intent):
    """Members to have running at the end: those running now, and those an interrupted run had running."""
    running = {member_key(i) for i in snapshot.instances if i.power_state in RESTARTED or i.power_state is None}
    running |= {k for k in intent.restore if any(member_key(i) == k for i in snapshot.instances)}
    return tuple(member_key(i) for i in snapshot.instances if member_key(i) in running)


def batches(keys, percent, population):
    """(label, keys) batches of at most `percent` of the population (at least one member each)."""
    size = max(1, math.floor(population * percent / 100.0))
    chunks = [keys[i:i + size] for i in range(0, len(keys), size)]
    return [(f'{n}/{len(chunks)}', chunk) for n, chunk in enumerate(chunks, 1)]


def _same_size(a, b):
    return bool(a and b) and a.lower() == b.lower()


def _region(location):
    return location.replace(' ', '').lower()


def _short(resource_id):
    parts = resource_id.strip('/').split('/')
    return '/'.join(parts[-3:]) if 'virtualMachineScaleSets' in resource_id else parts[-1]


def _rg(resource_id):
    parts = resource_id.strip('/').split('/')
    return parts[3] if len(parts) > 3 else 'MyResourceGroup'


def describe(step):
    """A step in words, with its count: what the confirmation and the progress lines show."""
    n = len(step.targets)
    batch = f' (batch {step.batch})' if step.batch else ''
    group = resource_name(step.group) if step.group else None
    if step.action == SET_CAPACITY:
        names = ', '.join(resource_name(t) for t in step.targets)
        return f'set reservation {names} to capacity {step.capacity}'
    if step.action == SET_MODEL_GROUP:
        return (f"associate the scale set's model with group {group}" if group else
                "remove the scale set's model from its group")
    if step.action == WAIT_UPGRADE:
        return f"wait for the upgrade policy to bring {_counted(n, 'instance')} to the new model"
    if step.action == UPGRADE:
        return f"upgrade {_counted(n, 'instance')} to the latest model{batch}"
    if step.action == SET_VM_GROUP:
        return (f"associate {_counted(n, 'VM')} with group {group}" if group else
                f"remove {_counted(n, 'VM')} from the group") + batch
    return f"{step.action} {_counted(n, 'member')}{batch}"


def _counted(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"
