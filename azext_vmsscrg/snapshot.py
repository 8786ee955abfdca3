# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the survey read about one scale set, as plain frozen data.

Nothing here imports the SDK or makes a request, so a planner can consume a snapshot as it is.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

UNIFORM = 'Uniform'
FLEXIBLE = 'Flexible'
ATTACHED = 'attached'
DETACHED = 'detached'
PARTIAL = 'partial'
UNKNOWN = 'unknown'  # an unreadable group hides which group some instances are on
# provisioning states in which no operation runs: 'Failed' too (the operation is over; the next write retries it)
SETTLED_STATES = ('succeeded', 'failed', 'canceled')
CHANGING_POWER = ('starting', 'stopping', 'deallocating')


def normalize_id(resource_id):
    """ARM echoes ids in other casings (and examples drop the leading '/'): compare them through this."""
    return f"/{resource_id.strip('/').lower()}" if resource_id else None


def same_id(first, second):
    return normalize_id(first) == normalize_id(second)


def resource_name(resource_id):
    return resource_id.rstrip('/').rsplit('/', 1)[-1] if resource_id else None


@dataclass(frozen=True)
class ReadError:
    """A read that failed; reported instead of raised."""
    resource_id: str
    status_code: Optional[int]
    code: Optional[str]
    message: str


@dataclass(frozen=True)
class Reservation:  # pylint: disable=too-many-instance-attributes  # what Azure reports
    id: str
    name: str
    sku: str
    zone: Optional[str]
    capacity: int
    allocated: Optional[int]  # None when the group's instance view doesn't mention the reservation
    associated: int
    fault_domain_count: Optional[int] = None  # properties.platformFaultDomainCount
    schedule: Optional[Tuple[str, str]] = None  # a Block reservation's properties.scheduleProfile (start, end)


@dataclass(frozen=True)
class Group:
    id: str
    associated_ids: Tuple[str, ...]  # properties.virtualMachinesAssociated, allocated or not
    reservations: Tuple[Reservation, ...]
    location: Optional[str] = None
    zones: Tuple[str, ...] = ()
    reservation_type: Optional[str] = None  # properties.reservationType: Targeted or Block (api-version 2025-04-01)


@dataclass(frozen=True)
class Instance:  # pylint: disable=too-many-instance-attributes  # what Azure reports
    """A Uniform instance or a Flexible member VM."""
    id: str
    name: str
    instance_id: Optional[str]  # Uniform only
    power_state: Optional[str]  # 'running', 'deallocated', ... from the PowerState/* status
    latest_model_applied: Optional[bool]  # Uniform only
    group_id: Optional[str]  # the group the instance is associated with
    group_known: bool = True  # False when the group that would tell could not be read
    zone: Optional[str] = None
    size: Optional[str] = None  # Flexible members; Uniform instances have the scale set's size
    ephemeral_os_disk: bool = False
    spot: bool = False  # priority Spot (Flexible members)
    protected: bool = False  # protectionPolicy.protectFromScaleSetActions (Uniform instances)
    provisioning_state: Optional[str] = None  # Flexible members: 'Succeeded', 'Updating', 'Failed', ...


@dataclass(frozen=True)
class ScaleSet:  # pylint: disable=too-many-instance-attributes  # what Azure reports
    id: str
    name: str
    resource_group: str
    orchestration_mode: str
    upgrade_mode: str
    zones: Tuple[str, ...]
    sku_name: Optional[str]
    capacity: Optional[int]
    has_vm_profile: bool
    model_group_id: Optional[str]  # virtualMachineProfile.capacityReservation.capacityReservationGroup.id
    location: Optional[str] = None
    ephemeral_os_disk: bool = False  # the profile's OS disk is ephemeral: instances cannot be deallocated
    single_placement_group: Optional[bool] = None
    fault_domain_count: Optional[int] = None
    spot: bool = False
    etag: Optional[str] = None
    provisioning_state: Optional[str] = None
    max_batch_percent: Optional[int] = None  # Rolling: rollingUpgradePolicy.maxBatchInstancePercent
    pause_seconds: float = 0.0  # Rolling: rollingUpgradePolicy.pauseTimeBetweenBatches
    # standalone VMs handled as the members of a scale set without profile (group.py): their ids, read one by one
    member_ids: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    scale_set: ScaleSet
    instances: Tuple[Instance, ...]
    group: Optional[Group]  # the group in play, when it could be read
    group_error: Optional[ReadError] = None  # why the group in play could not be read
    lookup_error: Optional[ReadError] = None  # why other groups could not be searched for instances
    target: Optional[Group] = None  # attach: the group asked for, when it differs from the group in play
    target_error: Optional[ReadError] = None

    @property
    def group_source(self):
        """A Flexible scale set without a VM profile has no model association: its members decide."""
        return 'model' if self.scale_set.has_vm_profile else 'members'

    @property
    def group_id(self):
        return group_in_play(self.scale_set, self.instances)

    @property
    def busy(self):
        """What shows that an operation is running on the scale set, or None when it is settled."""
        state = self.scale_set.provisioning_state
        if state and state.lower() not in SETTLED_STATES:
            return f"is in provisioning state '{state}'"
        changing = [i.name for i in self.instances if i.power_state in CHANGING_POWER]
        if changing:
            return f"has members changing power state ({', '.join(changing[:5])})"
        return None


def held_group(instances):
    """The one group the instances that are on a group hold, or None when they hold none or several."""
    groups = {normalize_id(instance.group_id): instance.group_id for instance in instances if instance.group_id}
    return next(iter(groups.values())) if len(groups) == 1 else None


def group_in_play(scale_set, instances):
    """The model's group or, without a VM profile, the group every member shares (None if they share none)."""
    if scale_set.has_vm_profile:
        return scale_set.model_group_id
    groups = {normalize_id(instance.group_id) for instance in instances}
    if len(groups) != 1:
        return None
    return instances[0].group_id


def association_state(snapshot, group_id=None):
    """ATTACHED when the model (or, without a profile, every member) and every instance are on `group_id` (by
    default the group in play); DETACHED when nothing is on a group; UNKNOWN when a group could not be read;
    else PARTIAL."""
    instances = snapshot.instances
    if not all(instance.group_known for instance in instances):
        return UNKNOWN
    group_id = group_id or snapshot.group_id
    scale_set = snapshot.scale_set
    model_ok = not scale_set.has_vm_profile or same_id(scale_set.model_group_id, group_id)
    missing = snapshot.group_error is not None and snapshot.group_error.status_code == 404 and same_id(
        snapshot.group_error.resource_id, group_id)
    if group_id and not missing and model_ok and all(same_id(i.group_id, group_id) for i in instances):
        return ATTACHED
    if not scale_set.model_group_id and not any(instance.group_id for instance in instances):
        return DETACHED
    return PARTIAL
