# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The planner is pure: snapshots in, plans out. Table cases for the shapes, properties for the safety rules.

`play` runs a plan over a snapshot under the association rules Azure documents (a deallocated member changes
freely; an allocated zonal one joins in place; an allocated one leaves only a reservation at capacity 0; a Uniform
model changes only as those allow) and fails on any step that Azure would refuse.
"""
from dataclasses import replace

import pytest
from azure.cli.core.azclierror import (InvalidArgumentValueError, ResourceNotFoundError, UnclassifiedUserFault,
                                       ValidationError)
from hypothesis import given, settings, strategies as st

from azext_vmsscrg import plan as p
from azext_vmsscrg.snapshot import FLEXIBLE, UNIFORM, Group, Instance, ReadError, Reservation, ScaleSet, Snapshot

SUB = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute'
VMSS = SUB + '/virtualMachineScaleSets/ss'
A = SUB + '/capacityReservationGroups/a'
B = SUB + '/capacityReservationGroups/b'
SIZE = 'Standard_D2s_v3'


def reservation(group=A, zone=None, capacity=10, allocated=0, fd=3):
    return Reservation(id='{}/capacityReservations/r{}'.format(group, zone or ''), name='r' + (zone or ''), sku=SIZE,
                       zone=zone, capacity=capacity, allocated=allocated, associated=0, fault_domain_count=fd)


def group(gid=A, zones=(), capacity=10, associated=(), location='eastus', allocated=0):
    res = tuple(reservation(gid, z, capacity, allocated) for z in zones or (None,))
    return Group(id=gid, associated_ids=tuple(associated), reservations=res, location=location, zones=tuple(zones))


def instance(n, mode=UNIFORM, group_id=A, power='running', zone=None, latest=True):
    if mode == UNIFORM:
        return Instance(id='{}/virtualMachines/{}'.format(VMSS, n), name='ss_{}'.format(n), instance_id=str(n),
                        power_state=power, latest_model_applied=latest, group_id=group_id, zone=zone)
    return Instance(id='{}/virtualMachines/vm{}'.format(SUB, n), name='vm{}'.format(n), instance_id=None,
                    power_state=power, latest_model_applied=None, group_id=group_id, zone=zone, size=SIZE)


def scale_set(mode=UNIFORM, model=A, policy='Manual', zones=(), profile=True, ephemeral=False, spg=False, fd=1,
              spot=False, location='eastus'):
    return ScaleSet(id=VMSS, name='ss', resource_group='rg', orchestration_mode=mode, upgrade_mode=policy,
                    zones=tuple(zones), sku_name=SIZE, capacity=3, has_vm_profile=profile,
                    model_group_id=model if profile else None, location=location, ephemeral_os_disk=ephemeral,
                    single_placement_group=spg, fault_domain_count=fd, spot=spot)


def snap(ss, instances, grp=None, target=None, **kw):
    return Snapshot(ss, tuple(instances), grp, target=target, **kw)


def detach(snapshot, **kw):
    return p.make_plan(snapshot, p.Intent('detach', **kw))


def attach(snapshot, gid=A, **kw):
    return p.make_plan(snapshot, p.Intent('attach', group_id=gid, **kw))


def actions(plan):
    return [s.action for s in plan.steps]


# --- play: the plan against the association rules ----------------------------------------------
def play(snapshot, plan, out=None):
    """The plan's end state: (power, association, model group). `out` receives capacities and latest-model flags."""
    ss = snapshot.scale_set
    power = {p.member_key(i): i.power_state for i in snapshot.instances}
    assoc = {p.member_key(i): i.group_id for i in snapshot.instances}
    zone = {p.member_key(i): i.zone or (ss.zones[0] if ss.zones else None) for i in snapshot.instances}
    model = ss.model_group_id
    capacity = {r.id: r.capacity for g in (snapshot.group, snapshot.target) if g for r in g.reservations}
    latest = {p.member_key(i): i.latest_model_applied for i in snapshot.instances}
    protected = {p.member_key(i) for i in snapshot.instances if i.protected}  # no scale set action reaches them

    def on(key):
        return power[key] not in p.NOT_ALLOCATED

    def group_capacity(gid):
        return sum(c for rid, c in capacity.items() if rid.startswith(gid + '/'))

    def change(key, new):
        old = assoc[key]
        if old == new:
            return
        if on(key):
            assert not (old and new), 'A3/A5: switching an allocated member {} from {} to {}'.format(key, old, new)
            if old:  # A4: leave only at capacity 0
                assert group_capacity(old) == 0, 'A4: allocated {} leaves {} with capacity'.format(key, old)
            else:  # A3: join in place only when zonal
                assert zone[key], 'A3: allocated regional {} joins {}'.format(key, new)
        assoc[key] = new

    for step in plan.steps:
        if step.action == p.DEALLOCATE:
            assert not (step.whole_set and protected & set(step.targets)), 'A6p: whole-set action skips protected'
            for k in step.targets:
                power[k] = 'deallocated'
        elif step.action == p.START:
            for k in step.targets:
                power[k] = 'running'
        elif step.action == p.SET_CAPACITY:
            capacity[step.targets[0]] = step.capacity
        elif step.action == p.SET_MODEL_GROUP:
            if ss.orchestration_mode == UNIFORM and any(on(k) for k in power):
                assert not (model and step.group), 'A5: switch with allocated instances'
                if model:
                    assert group_capacity(model) == 0, 'A5: detach with allocated instances and capacity'
                else:
                    assert ss.zones, 'A5: attach a regional scale set with allocated instances'
            if model != step.group and ss.orchestration_mode == UNIFORM:
                latest = dict.fromkeys(latest, False)
            model = step.group
        elif step.action in (p.UPGRADE, p.WAIT_UPGRADE):
            assert ss.orchestration_mode == UNIFORM
            assert step.action == p.UPGRADE or not protected & set(step.targets), 'A6p: no policy upgrades them'
            for k in step.targets:
                change(k, model)
                latest[k] = True
        elif step.action == p.SET_VM_GROUP:
            assert ss.orchestration_mode == FLEXIBLE, 'A7: Uniform instances change through the model only'
            for k in step.targets:
                change(k, step.group)
    if out is not None:
        out.update(capacity=capacity, latest=latest)
    return power, assoc, model


# --- table cases ---------------------------------------------------------------------------------
def test_detached_scale_set_plans_nothing():
    s = snap(scale_set(model=None), [instance(0, group_id=None)])
    assert detach(s).is_noop()


def test_uniform_manual_detach_follows_option_one():
    s = snap(scale_set(), [instance(0), instance(1, power='deallocated'), instance(2)], group())
    plan = detach(s)
    assert actions(plan) == [p.DEALLOCATE, p.SET_MODEL_GROUP, p.UPGRADE, p.START]
    assert plan.steps[0].targets == ('0', '2') and plan.steps[-1].targets == ('0', '2')
    assert plan.steps[2].targets == ('0', '1', '2')  # all deallocated by then: one upgrade
    assert all(s.reason for s in plan.steps)


@pytest.mark.parametrize('policy', ['Automatic', 'Rolling'])
def test_uniform_automatic_and_rolling_wait_for_azure(policy):
    s = snap(scale_set(policy=policy), [instance(0), instance(1)], group())
    assert actions(detach(s)) == [p.DEALLOCATE, p.SET_MODEL_GROUP, p.WAIT_UPGRADE, p.START]


def test_leave_deallocated_starts_nothing():
    s = snap(scale_set(), [instance(0), instance(1)], group())
    plan = detach(s, leave_deallocated=True)
    assert p.START not in actions(plan) and plan.restore == ()


def test_partially_detached_uniform_finishes_the_job():
    s = snap(scale_set(model=None), [instance(0, group_id=None), instance(1, latest=False)], group())
    plan = detach(s)
    assert actions(plan) == [p.DEALLOCATE, p.UPGRADE, p.START]
    assert plan.steps[0].targets == ('1',)


def test_interrupted_run_starts_again_what_the_journal_recorded():
    stopped = [instance(n, group_id=None, power='deallocated') for n in (0, 1)]
    s = snap(scale_set(model=None), stopped, group())
    plan = detach(s, restore=frozenset({'0'}))
    # nothing left to detach, but the instance that was running before the first run is started again
    assert actions(plan) == [p.START] and plan.steps[0].targets == ('0',)
    assert detach(s).is_noop() and detach(s, restore=frozenset({'0'}), leave_deallocated=True).is_noop()


def test_zero_capacity_zeroes_reservations_and_deallocates_nothing():
    s = snap(scale_set(zones=('1',)), [instance(0, zone='1'), instance(1, zone='1')],
             group(zones=('1',), associated=(VMSS + '/virtualMachines/0', VMSS + '/virtualMachines/1')))
    plan = detach(s, strategy='zero-capacity')
    assert actions(plan)[:2] == [p.SET_CAPACITY, p.SET_MODEL_GROUP] and p.DEALLOCATE not in actions(plan)
    assert plan.zeroed == (A + '/capacityReservations/r1',)
    play(s, plan)


def test_zero_capacity_rerun_after_the_model_left_finishes_the_instances():
    # a zero-capacity run stopped after its model step: the instances still hold the group, now at capacity 0
    s = snap(scale_set(model=None, zones=('1',)), [instance(0, zone='1', latest=False), instance(1, zone='1')],
             group(zones=('1',), capacity=0, associated=(VMSS + '/virtualMachines/0',)))
    plan = detach(s, strategy='zero-capacity')
    assert actions(plan) == [p.UPGRADE] * len(plan.steps) and plan.zeroed == ()
    play(s, plan)


@pytest.mark.parametrize('state, power, busy', [
    ('Succeeded', 'running', None), ('Failed', 'deallocated', None),  # a failed operation is over
    ('Updating', 'running', "is in provisioning state 'Updating'"),
    ('Succeeded', 'deallocating', 'has members changing power state (ss_0)')])
def test_busy_scale_set_is_refused_and_a_failed_one_is_settled(state, power, busy):
    s = snap(replace(scale_set(), provisioning_state=state), [instance(0, power=power)], group())
    assert s.busy == busy
    if busy:
        with pytest.raises(ValidationError, match='another operation is running') as err:
            detach(s)
        assert 'vmsscrg.settle_timeout' in err.value.recommendations[0]
    else:
        assert actions(detach(s))[-1] in (p.UPGRADE, p.START)


def test_zero_capacity_refused_when_others_use_the_group_unless_forced():
    others = (SUB + '/virtualMachines/someone-else',)
    s = snap(scale_set(), [instance(0)], group(associated=others + (VMSS + '/virtualMachines/0',)))
    with pytest.raises(ValidationError) as err:
        detach(s, strategy='zero-capacity')
    assert 'someone-else' in err.value.error_msg and '--force' in err.value.recommendations[0]
    assert p.SET_CAPACITY in actions(detach(s, strategy='zero-capacity', force=True))


def test_ephemeral_os_disk_cannot_deallocate_and_proposes_zero_capacity():
    s = snap(scale_set(ephemeral=True), [instance(0)], group())
    with pytest.raises(ValidationError) as err:
        detach(s)
    assert 'zero-capacity' in err.value.recommendations[0]
    assert p.DEALLOCATE not in actions(detach(s, strategy='zero-capacity', force=True))


def test_flexible_members_in_batches_of_max_unavailable():
    members = [instance(n, FLEXIBLE) for n in range(10)] + [instance(10, FLEXIBLE, power='deallocated')]
    s = snap(scale_set(FLEXIBLE, profile=False), members, group())
    plan = detach(s, max_unavailable=20)
    assert actions(plan)[0] == p.SET_VM_GROUP and plan.steps[0].targets == ('vm10',)  # idle member: no disruption
    deallocations = [s for s in plan.steps if s.action == p.DEALLOCATE]
    assert [len(s.targets) for s in deallocations] == [2, 2, 2, 2, 2]
    assert deallocations[-1].batch == '5/5'
    power, assoc, _ = play(s, plan)
    assert all(v is None for v in assoc.values()) and all(power['vm{}'.format(n)] == 'running' for n in range(10))


def test_flexible_profile_changes_first():
    s = snap(scale_set(FLEXIBLE), [instance(0, FLEXIBLE)], group())
    assert actions(detach(s))[0] == p.SET_MODEL_GROUP


def test_uniform_zonal_attach_in_place():
    s = snap(scale_set(model=None, zones=('1',)), [instance(0, group_id=None, zone='1', latest=True)],
             None, target=group(zones=('1',)))
    plan = attach(s)
    assert actions(plan) == [p.SET_MODEL_GROUP, p.UPGRADE] and not plan.disruptive


def test_uniform_regional_attach_deallocates():
    s = snap(scale_set(model=None), [instance(0, group_id=None)], None, target=group())
    assert actions(attach(s)) == [p.DEALLOCATE, p.SET_MODEL_GROUP, p.UPGRADE, p.START]


def test_switching_groups_deallocates_even_when_zonal():
    s = snap(scale_set(model=A, zones=('1',)), [instance(0, zone='1')], group(zones=('1',)),
             target=group(B, zones=('1',)))
    plan = attach(s, B)
    assert actions(plan)[0] == p.DEALLOCATE
    power, assoc, model = play(s, plan)
    assert model == B and assoc == {'0': B} and power == {'0': 'running'}


def test_already_attached_is_a_noop():
    s = snap(scale_set(), [instance(0)], group())
    assert attach(s).is_noop()


@pytest.mark.parametrize('kw, target_kw, text', [
    ({'location': 'westus'}, {}, 'same region'),
    ({}, {'zones': ('1',)}, 'regional scale set needs a regional group'),
    ({'zones': ('1', '2')}, {'zones': ('1',)}, 'covers zones'),
    ({'zones': ('1',)}, {}, 'regional and the scale set is zonal'),
    ({'spg': True}, {}, 'singlePlacementGroup'),
    ({'spot': True}, {}, 'Spot'),
    ({'fd': 5}, {}, 'fault domains'),
])
def test_attach_validation(kw, target_kw, text):
    s = snap(scale_set(model=None, **kw), [instance(0, group_id=None)], None, target=group(**target_kw))
    with pytest.raises(ValidationError) as err:
        attach(s)
    assert text in err.value.error_msg


def test_attach_needs_a_reservation_for_the_size():
    other = Group(id=A, associated_ids=(), reservations=(Reservation(A + '/capacityReservations/x', 'x',
                                                                     'Standard_E4s_v5', None, 5, 0, 0, 3),),
                  location='eastus')
    s = snap(scale_set(model=None), [instance(0, group_id=None)], None, target=other)
    with pytest.raises(ValidationError) as err:
        attach(s)
    assert 'no reservation for size ' + SIZE in err.value.error_msg
    assert 'az capacity reservation create' in err.value.recommendations[0]


def test_attach_to_a_missing_group():
    s = snap(scale_set(model=None), [instance(0, group_id=None)], None,
             target_error=ReadError(A, 404, 'ResourceNotFound', 'not found'))
    with pytest.raises(ResourceNotFoundError):
        attach(s)


def test_attach_warns_of_overallocation():
    s = snap(scale_set(model=None, zones=('1',)), [instance(n, group_id=None, zone='1') for n in range(3)], None,
             target=group(zones=('1',), capacity=2, allocated=1))
    warnings = attach(s).warnings
    assert len(warnings) == 1 and 'overallocate it by 2' in warnings[0]


def test_unknown_associations_refuse_to_plan():
    s = snap(scale_set(), [Instance('x', 'ss_0', '0', 'running', True, None, group_known=False)], None)
    with pytest.raises(UnclassifiedUserFault):
        detach(s)


@pytest.mark.parametrize('kw', [{'strategy': 'delete'}, {'max_unavailable': 0}, {'max_unavailable': 101}])
def test_bad_intent(kw):
    with pytest.raises(InvalidArgumentValueError):
        detach(snap(scale_set(), [instance(0)], group()), **kw)


def test_same_input_same_plan():
    s = snap(scale_set(FLEXIBLE, profile=False), [instance(n, FLEXIBLE) for n in range(7)], group())
    assert detach(s) == detach(s)


# --- properties ----------------------------------------------------------------------------------
POWER = st.sampled_from(['running', 'deallocated', 'stopped'])


@st.composite
def snapshots(draw, for_attach=False):
    mode = draw(st.sampled_from([UNIFORM, FLEXIBLE]))
    zones = draw(st.sampled_from([(), ('1',), ('1', '2')]))
    profile = mode == UNIFORM or draw(st.booleans())
    n = draw(st.integers(0, 12))
    choices = [None, A] + ([B] if for_attach else [])
    model = draw(st.sampled_from(choices)) if profile else None
    members = []
    for k in range(n):
        zone = zones[k % len(zones)] if zones else None
        gid = model if mode == UNIFORM and draw(st.booleans()) else draw(st.sampled_from(choices))
        member = instance(k, mode, gid, draw(POWER), zone, latest=gid == model)
        members.append(replace(member, protected=mode == UNIFORM and draw(st.integers(0, 3)) == 0))
    ss = scale_set(mode, model, draw(st.sampled_from(['Automatic', 'Rolling', 'Manual'])), zones, profile)
    return snap(ss, members, group(A, zones), target=group(B, zones) if for_attach else None)


@settings(max_examples=300, deadline=None)
@given(snapshots(), st.sampled_from(p.STRATEGIES), st.booleans(), st.integers(1, 100))
def test_detach_is_safe_and_complete(s, strategy, leave, percent):
    try:
        plan = detach(s, strategy=strategy, leave_deallocated=leave, max_unavailable=percent, force=True)
    except ValidationError:
        assert strategy == 'zero-capacity'  # only when members sit on a group other than the one in play
        return
    power, assoc, model = play(s, plan)
    assert all(g is None for g in assoc.values()) and (model is None or not s.scale_set.has_vm_profile)
    running = [p.member_key(i) for i in s.instances if i.power_state == 'running']
    assert all(power[k] == 'running' for k in running) or leave
    if strategy == 'deallocate':
        assert not any(step.action == p.SET_CAPACITY for step in plan.steps)
    if not s.scale_set.model_group_id and not any(i.group_id for i in s.instances):
        assert plan.is_noop()


@settings(max_examples=300, deadline=None)
@given(snapshots(for_attach=True), st.booleans(), st.integers(1, 100))
def test_attach_is_safe_and_complete(s, leave, percent):
    plan = attach(s, B, leave_deallocated=leave, max_unavailable=percent)
    power, assoc, model = play(s, plan)
    assert all(g == B for g in assoc.values())
    assert model == B or not s.scale_set.has_vm_profile
    running = [p.member_key(i) for i in s.instances if i.power_state == 'running']
    assert all(power[k] == 'running' for k in running) or leave
    after = Snapshot(replace(s.scale_set, model_group_id=model), tuple(
        replace(i, power_state=power[p.member_key(i)], group_id=assoc[p.member_key(i)], latest_model_applied=True)
        for i in s.instances), s.target)
    assert attach(after, B).is_noop()  # converged: running it again writes nothing


# --- re-planning after an interruption is never more disruptive ---------------------------------------
def after(snapshot, steps):
    """The snapshot Azure would report after `steps` ran."""
    out = {}
    power, assoc, model = play(snapshot, p.Plan(tuple(steps)), out)

    def regroup(g):
        return g and replace(g, reservations=tuple(replace(r, capacity=out['capacity'][r.id]) for r in g.reservations))
    instances = tuple(replace(i, power_state=power[p.member_key(i)], group_id=assoc[p.member_key(i)],
                              latest_model_applied=out['latest'][p.member_key(i)]) for i in snapshot.instances)
    ss = replace(snapshot.scale_set, model_group_id=model if snapshot.scale_set.has_vm_profile else None)
    return replace(snapshot, scale_set=ss, instances=instances, group=regroup(snapshot.group),
                   target=regroup(snapshot.target))


def prefixes(plan):
    """Every point a run can be interrupted at: after each step, and halfway through each step's targets."""
    steps = plan.steps
    for k in range(len(steps)):
        yield steps[:k], steps[k:]
        if len(steps[k].targets) > 1 and steps[k].action in (p.DEALLOCATE, p.START, p.SET_VM_GROUP, p.UPGRADE):
            half = len(steps[k].targets) // 2
            yield steps[:k] + (replace(steps[k], targets=steps[k].targets[:half]),), steps[k:]


def assert_monotone(s, intent):
    first = p.make_plan(s, intent)
    for done, remaining in prefixes(first):
        journal = frozenset(first.restore) if any(step.disruptive for step in done) else frozenset()
        now = after(s, done)
        again = p.make_plan(now, replace(intent, restore=journal))
        left = {t for step in remaining if step.action == p.DEALLOCATE for t in step.targets}
        assert set(again.deallocated()) <= left, (done, again.steps)
        assert again.largest_batch() <= max(first.largest_batch(), 0), (done, again.steps)
        power, _, _ = play(now, again)  # and the re-plan is itself safe
        running = [p.member_key(i) for i in s.instances if i.power_state == 'running']
        assert intent.leave_deallocated or all(power[k] == 'running' for k in running), (done, again.steps)


@settings(max_examples=200, deadline=None)
@given(snapshots(for_attach=True), st.sampled_from(['attach', 'detach']), st.sampled_from(p.STRATEGIES),
       st.booleans(), st.integers(1, 100))
def test_replanning_after_any_prefix_is_never_more_disruptive(s, action, strategy, leave, percent):
    intent = p.Intent(action, group_id=B if action == 'attach' else None, leave_deallocated=leave,
                      max_unavailable=percent, strategy=strategy if action == 'detach' else p.DEALLOCATE_STRATEGY,
                      force=action == 'detach' and strategy == p.ZERO_CAPACITY_STRATEGY)
    try:
        p.make_plan(s, intent)
    except ValidationError:
        return  # refused before any write: nothing to resume
    assert_monotone(s, intent)


def test_interrupted_zonal_in_place_attach_never_deallocates():
    """A zonal Manual set, 2 of 4 running, attached in place and interrupted after the model step."""
    s = snap(scale_set(model=None, zones=('1',)),
             [instance(n, group_id=None, zone='1', power='running' if n < 2 else 'deallocated') for n in range(4)],
             None, target=group(B, zones=('1',)))
    first = attach(s, B)
    assert first.deallocated() == [] and actions(first)[0] == p.SET_MODEL_GROUP
    again = attach(after(s, first.steps[:1]), B)
    assert again.deallocated() == [] and p.SET_MODEL_GROUP not in actions(again) and not again.is_noop()
    assert_monotone(s, p.Intent('attach', group_id=B))


def test_spot_members_are_refused_before_any_write():
    members = [instance(0, FLEXIBLE, group_id=None), replace(instance(1, FLEXIBLE, group_id=None), spot=True)]
    s = snap(scale_set(FLEXIBLE, profile=False), members, None, target=group(B))
    with pytest.raises(ValidationError) as err:
        attach(s, B)
    assert 'vm1' in err.value.error_msg and 'Spot' in err.value.error_msg and 'vm0' not in err.value.error_msg


@pytest.mark.parametrize('policy', ['Automatic', 'Rolling', 'Manual'])
def test_protected_instances_are_upgraded_explicitly_in_batches(policy):
    """Zonal, in place: no policy upgrades a protected instance, so each is upgraded by instance id, at most
    --max-unavailable of the instances at a time."""
    members = [instance(n, group_id=None, zone='1', latest=False) for n in range(6)]
    members[1:4] = [replace(i, protected=True) for i in members[1:4]]
    s = snap(scale_set(model=None, zones=('1',), policy=policy), members, None, target=group(B, zones=('1',)))
    plan = attach(s, B, max_unavailable=34)
    assert plan.deallocated() == []
    upgrades = [st for st in plan.steps if st.action == p.UPGRADE]
    if policy == 'Manual':
        assert [t for st in upgrades for t in st.targets] == [str(n) for n in range(6)]
    else:
        wait = [st for st in plan.steps if st.action == p.WAIT_UPGRADE]
        assert wait[0].targets == ('0', '4', '5')
        assert [st.targets for st in upgrades] == [('1', '2'), ('3',)]
        assert all('Instance protection' in st.reason for st in upgrades)
    assert all(len(st.targets) <= 2 for st in upgrades)
    power, assoc, _ = play(s, plan)
    assert set(assoc.values()) == {B} and set(power.values()) == {'running'}


def test_protected_instances_are_deallocated_by_name_the_rest_with_the_whole_set():
    members = [instance(n, group_id=None) for n in range(3)]
    members[2] = replace(members[2], protected=True)
    plan = attach(snap(scale_set(model=None, policy='Automatic'), members, None, target=group(B)), B)
    down = [st for st in plan.steps if st.action == p.DEALLOCATE]
    assert [(st.targets, st.whole_set) for st in down] == [(('0', '1'), True), (('2',), False)]
    assert 'protected from scale set actions' in down[1].reason
    assert plan.steps[-1].action == p.START and plan.steps[-1].targets == ('0', '1', '2')


def test_unknown_power_counts_as_allocated_and_is_started_again():
    s = snap(scale_set(model=None), [instance(0, group_id=None, power=None)], None, target=group(B))
    plan = attach(s, B)
    assert plan.deallocated() == ['0'] and plan.steps[-1].action == p.START and plan.restore == ('0',)


def test_in_place_flexible_attach_starts_nothing_again():
    s = snap(scale_set(FLEXIBLE, profile=False, zones=('1',)), [instance(0, FLEXIBLE, group_id=None, zone='1')], None,
             target=group(B, zones=('1',)))
    plan = attach(s, B)
    assert plan.disruption()['instancesStartedAgain'] == 0 and plan.deallocated() == []


# --- the risk of starting members without a reservation -----------------------------------------
def test_detach_by_deallocation_counts_every_member_started_again_and_names_zero_capacity():
    s = snap(scale_set(), [instance(0), instance(1), instance(2, power='deallocated')], group())
    plan = detach(s)
    assert plan.unguaranteed == ('0', '1') and plan.disruption()['instancesStartedWithoutReservation'] == 2
    assert any('2 running member(s) will be started again without a capacity reservation guarantee' in w and
               '--strategy zero-capacity moves them without a restart' in w for w in plan.warnings)


def test_detach_of_a_shared_group_says_zero_capacity_would_take_others_reservation():
    s = snap(scale_set(), [instance(0)], group(associated=(SUB + '/virtualMachines/other',)))
    assert any('shared with 1 other virtual machine(s)' in w for w in detach(s).warnings)


def test_zero_capacity_and_leave_deallocated_start_nothing_without_a_reservation():
    s = snap(scale_set(), [instance(0), instance(1)], group())
    assert detach(s, strategy=p.ZERO_CAPACITY_STRATEGY).unguaranteed == ()
    assert detach(s, leave_deallocated=True).unguaranteed == ()


@pytest.mark.parametrize('capacity, allocated, risky', [
    (3, 0, ()), (2, 0, ('2',)), (1, 0, ('1', '2')), (3, 2, ('1', '2'))])
def test_attach_counts_what_exceeds_the_reservation(capacity, allocated, risky):
    target = group(B, capacity=capacity, allocated=allocated)
    s = snap(scale_set(model=None), [instance(n, group_id=None) for n in range(3)], None, target=target)
    plan = attach(s, B)
    assert plan.unguaranteed == risky
    assert plan.disruption()['instancesStartedWithoutReservation'] == len(risky)


def test_the_confirmation_says_how_many_start_without_a_reservation():
    from azext_vmsscrg.prompt import summary
    s = snap(scale_set(), [instance(0), instance(1)], group())
    intent = p.Intent('detach')
    text = summary(s, intent, p.make_plan(s, intent))
    assert 'start 2 of them again without a capacity reservation guarantee' in text
    assert 'without a capacity reservation' not in summary(s, intent, detach(s, strategy=p.ZERO_CAPACITY_STRATEGY))


# --- what the user reads: refusals with one way forward, the confirmation in execution order -------------------
def test_ephemeral_set_on_a_shared_group_is_not_sent_in_a_circle():
    others = tuple(SUB + '/virtualMachines/other{}'.format(n) for n in range(11))
    s = snap(scale_set(ephemeral=True), [instance(0)], group(associated=others + (VMSS + '/virtualMachines/0',)))
    with pytest.raises(ValidationError) as first:
        detach(s)
    assert '--strategy zero-capacity --force' in first.value.recommendations[0]
    assert 'other0, other1' in first.value.recommendations[0] and 'and 1 more' in first.value.recommendations[0]
    with pytest.raises(ValidationError) as second:
        detach(s, strategy='zero-capacity')
    assert 'and 1 more' in second.value.error_msg
    assert 'deallocate is not possible' in second.value.recommendations[0]
    assert 'Use --strategy deallocate' not in second.value.recommendations[0]
    plan = detach(s, strategy='zero-capacity', force=True)  # the way forward the first refusal gave
    assert [(st.capacity, st.previous) for st in plan.steps if st.action == p.SET_CAPACITY] == [(0, 10)]


def test_attach_ephemeral_does_not_propose_a_strategy_attach_has_not():
    s = snap(scale_set(model=None, ephemeral=True), [instance(0, group_id=None)], None, target=group())
    with pytest.raises(ValidationError) as err:
        attach(s)
    assert '--strategy' not in err.value.recommendations[0] and 'az vmss scale' in err.value.recommendations[0]


def test_mixed_zone_flexible_set_names_the_member_without_a_zone():
    members = [instance(1, FLEXIBLE, None, zone='1'), instance(2, FLEXIBLE, None, zone='2'),
               instance(3, FLEXIBLE, None)]
    s = snap(scale_set(FLEXIBLE, profile=False), members, None, target=group(zones=('1', '2')))
    with pytest.raises(ValidationError) as zonal:
        attach(s)
    assert "Member(s) vm3 of scale set 'ss' have no zone" in zonal.value.error_msg
    assert '--zone' not in zonal.value.recommendations[0] and 'vm3' in zonal.value.recommendations[0]
    with pytest.raises(ValidationError) as regional:
        attach(replace(s, target=group()))
    assert 'vm1, vm2' in regional.value.error_msg and 'zone(s) 1, 2' in regional.value.error_msg
    assert 'scale set is zonal' not in regional.value.error_msg


def test_confirmation_lists_steps_in_execution_order_and_the_stopped_members_left_deallocated():
    from azext_vmsscrg.prompt import summary
    s = snap(scale_set(), [instance(0), instance(1, power='stopped'), instance(2, power='deallocated')], group())
    plan = detach(s)
    text = summary(s, p.Intent('detach'), plan)
    listed = [line.split('. ', 1)[1] for line in text.splitlines() if line[:4].strip().rstrip('.').isdigit()]
    assert listed == [p.describe(step) for step in plan.steps] == [
        'deallocate 2 members', "remove the scale set's model from its group",
        'upgrade 3 instances to the latest model', 'start 1 member']
    assert '1 member(s) that are stopped but allocated (1)' in text
    assert plan.disruption()['instancesLeftDeallocated'] == ['1']
