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
short-summary: Show whether a scale set and each of its instances are on a capacity reservation group.
long-summary: >
    Reads the scale set, its instances and the capacity reservation group in its model, and changes
    nothing. The state is "attached" when the model names a group and every instance is associated with
    it, "detached" when neither the model nor any instance is associated with a group, and "partial"
    otherwise, in which case nextAction gives the command that finishes the move. The state is "unknown"
    when a group that may hold instances could not be read.


    A Flexible scale set without a virtual machine profile has no association in its model: the group
    all its members share stands in for it (capacityReservationGroupSource is "members"). A scale set
    without an upgrade policy reports "Manual", which is how Azure treats it. Each reservation of the
    group shows its capacity and how many virtual machines are allocated on it and associated with it;
    more allocated than its capacity is reported as overallocated.
examples:
  - name: Show the capacity reservation status of a scale set.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet
  - name: Show one row per instance, with the overall state and the model's group.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet -o table
  - name: Print only the state (attached, detached, partial or unknown).
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet --query state -o tsv
  - name: List the instances that are not yet on the model's group.
    text: az vmss capacity-reservation status -g MyResourceGroup -n MyScaleSet --query "instances[?!inSync].name"
"""
