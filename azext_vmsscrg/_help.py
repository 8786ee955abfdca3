# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from knack.help_files import helps  # pylint: disable=unused-import

helps['vmss capacity-reservation'] = """
type: group
short-summary: Move virtual machine scale sets on and off capacity reservation groups.
long-summary: >
    A scale set is on a capacity reservation group when its model names the group and every instance
    is associated with it.
"""

helps['vmss capacity-reservation status'] = """
type: command
short-summary: Show whether a scale set and each of its instances are on a capacity reservation group, or all that is on a group.
long-summary: >
    Reads the scale set, its instances and the capacity reservation group in its model, and changes
    nothing. The state is "attached" when the model names a group and every instance is associated with
    it, "detached" when neither the model nor any instance is associated with a group, and "partial"
    otherwise, in which case nextAction gives the command that finishes the move. The state is "unknown"
    when a group that may hold instances could not be read. When an attach or detach run did not finish
    (it was killed or failed), unfinishedRun shows what it set out to do and nextAction the command that
    finishes it.


    A Flexible scale set without a virtual machine profile has no association in its model: the group
    all its members share stands in for it (capacityReservationGroupSource is "members"). A scale set
    without an upgrade policy reports "Manual", which is how Azure treats it. Each reservation of the
    group shows its capacity and how many virtual machines are allocated on it and associated with it;
    more allocated than its capacity is reported as overallocated.


    With --crg GROUP instead of --name: the group, each of its reservations, every scale set with its
    model or an instance on it (with the state this command reports for one scale set), every standalone
    VM on it, the subscriptions it is shared with, members and subscriptions that could not be read
    (unreadable), and whether it can be deleted now (deletable) or what blocks it (blockers).
examples:
  - name: Show the capacity reservation status of a scale set.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet
  - name: Show one row per instance, with the overall state and the model's group.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet -o table
  - name: Print only the state (attached, detached, partial or unknown).
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet --query state -o tsv
  - name: List the instances that are not yet on the model's group.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet --query "instances[?!inSync].name"
  - name: Show everything on a capacity reservation group, and whether it can be deleted now.
    text: az vmss capacity-reservation status -g MyResourceGroup --crg MyGroup
  - name: Print only what keeps a group (given by id) from being deleted.
    text: az vmss capacity-reservation status --crg /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MyResourceGroup/providers/Microsoft.Compute/capacityReservationGroups/MyGroup --query blockers
"""

helps['vmss capacity-reservation detach'] = """
type: command
short-summary: Remove a scale set and all its instances from their capacity reservation group, in one resumable command.
long-summary: >
    Runs the documented removal procedure: it inspects the scale set, plans the steps, asks once for
    confirmation, runs them with progress, reads every change back, and starts again the instances that
    were running. If it is interrupted, run the same command again: it plans from what Azure reports and
    finishes the job. The run's intent and the members that were running are recorded before each
    deallocation in vmsscrg/journal under the Azure CLI configuration directory, so they are started again
    even after a kill. When a step fails for good, or on Ctrl-C, the command first starts again what it
    deallocated, then says where each member stands and what to do. Members that were stopped (powered off but allocated) and had to be deallocated to move are left
    deallocated.


    --strategy deallocate (option 1 of "Remove a Virtual Machine Scale Set association from a Capacity
    Reservation group", learn.microsoft.com/azure/virtual-machines/capacity-reservation-remove-virtual-machine-scale-set)
    deallocates what has to move:
    for a Uniform scale set every allocated instance, for the whole time it takes to change the model and
    bring the instances up to date by the upgrade policy (Automatic and Rolling: Azure does it; Manual:
    this command upgrades the instances in batches); for a Flexible scale set the members, batch by batch
    (--max-unavailable), each batch deallocated, cleared and started again while the others keep running.


    Started again without their reservation, members run on on-demand capacity, which a region or zone
    can run out of: --dry-run and the prompt say how many. A start Azure refuses for lack of capacity
    (AllocationFailed, ZonalAllocationFailed) is retried for up to vmsscrg.allocation_retry_timeout seconds
    (300 by default; az config set vmsscrg.allocation_retry_timeout=SECONDS); then the members that still
    cannot start go back to the group they came from, whose reservation still holds their capacity, are
    started there, and the command exits with an error naming them. Try again later, or use --strategy
    zero-capacity, which moves them without a restart.


    --strategy zero-capacity (option 2) deallocates nothing: it sets to capacity 0 every reservation of the
    group that the scale set uses (they then guarantee capacity to nobody), clears the association and
    brings the instances up to date. It is refused when other VMs or scale sets use those reservations,
    unless --force. Use it for scale sets with an ephemeral OS disk, which cannot be deallocated.


    --crg GROUP instead of --name detaches everything on a capacity reservation group: every scale set
    whose model or instances are on it and every standalone VM on it (standalone VMs are handled like the
    members of a Flexible scale set: deallocated, cleared, started again if they were running). It is one
    plan and one confirmation; the scale sets run a few at a time (az config set
    vmsscrg.group_concurrency=N, default 4), each as its single detach would. With zero-capacity every
    reservation of the group is set to 0 once, first. It is refused before any write when a member (or a
    subscription the group is shared with) cannot be read. At the end it prints the commands that delete the
    reservations and the group; with --delete-group it runs them, tries again while Azure still lists
    associations (its lists lag a change), and checks that they are gone.
examples:
  - name: See what detaching would do, without changing anything.
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --dry-run
  - name: Detach, deallocating what must move and starting it again; no prompt.
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --yes
  - name: Detach a Flexible scale set ten percent of its members at a time.
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --max-unavailable 10 --yes
  - name: Detach and leave deallocated the instances it deallocates (to start them later yourself).
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --leave-deallocated --yes
  - name: See the plan for detaching without deallocating, by setting the reservations to capacity 0.
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --strategy zero-capacity --dry-run
  - name: Detach without deallocating, even though other VMs use the same reservations and lose their guarantee.
    text: az vmss capacity-reservation detach -g MyResourceGroup -n MyScaleSet --strategy zero-capacity --force --yes
  - name: See the plan for detaching every scale set and VM on a capacity reservation group.
    text: az vmss capacity-reservation detach -g MyResourceGroup --crg MyGroup --dry-run
  - name: Empty a capacity reservation group, then delete its reservations and the group.
    text: az vmss capacity-reservation detach -g MyResourceGroup --crg MyGroup --delete-group --yes
"""

helps['vmss capacity-reservation attach'] = """
type: command
short-summary: Put a scale set and all its instances on a capacity reservation group, in one resumable command.
long-summary: >
    Checks the group first (it exists, same region, zones, a reservation for the VM size in each zone,
    fault domains, no singlePlacementGroup, no Spot) and warns when the reservations will be overallocated.
    A zonal Uniform scale set is attached in place: the model, then the instances by upgrade policy. A
    regional one is deallocated, attached and started again. A Flexible scale set gets its profile (if any)
    updated, then every member: zonal members in place, others in batches (--max-unavailable) of
    deallocate, associate, start. Switching from another group deallocates what must move, in one plan.
    Members started beyond what a reservation holds run on on-demand capacity: --dry-run and the prompt
    say how many; a start Azure refuses for lack of capacity is retried for up to
    vmsscrg.allocation_retry_timeout seconds, then the members that cannot start are reported.
    Like detach, it asks once, shows progress, reads back every change, and can be run again after an
    interruption to finish.
examples:
  - name: See the plan for attaching a scale set to a group in its resource group.
    text: az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg MyGroup --dry-run
  - name: Attach without a prompt.
    text: az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg MyGroup --yes
  - name: Attach a Flexible scale set one member in ten at a time, two operations at once.
    text: az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg MyGroup --max-unavailable 10 --concurrency 2 --yes
  - name: Attach and leave deallocated the instances it deallocates.
    text: az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg MyGroup --leave-deallocated --yes
  - name: Attach to a group in another resource group, by id.
    text: az vmss capacity-reservation attach -g MyResourceGroup -n MyScaleSet --crg /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/OtherGroup/providers/Microsoft.Compute/capacityReservationGroups/MyGroup --yes
"""
