# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""One run of attach or detach on a scale set: inspect, plan, confirm, read again, execute, compensate, verify.
The pieces a run is made of (journal record, compensation, interruption) serve the group commands (group.py) too."""
import signal
from contextlib import contextmanager
from dataclasses import replace

from knack.log import get_logger

from ._client_factory import cf_autoscale
from .survey import SETTLE_TIMEOUT, autoscale_settings, wait_for_lists, wait_until_settled
from .journal import Journal, new_record
from .plan import make_plan, member_key
from .execute import ALLOCATION_RETRY_TIMEOUT, Cancelled, Executor, StepFailed
from .outcome import failure, finish_command, give_back, interrupted, previous_capacities, result, verify
from ._progress import Progress
from .prompt import changes, confirm, prompting
from .status import build_status

logger = get_logger(__name__)


def move(cmd, client, survey, intent, *, concurrency, dry_run, yes):
    """Inspect, plan, confirm, read again, execute, verify. Re-running after any interruption recomputes the plan.
    survey() reads the scale set into a snapshot."""

    snapshot = wait_until_settled(survey, 0 if dry_run else cmd.cli_ctx.config.getint(
        'vmsscrg', 'settle_timeout', fallback=SETTLE_TIMEOUT))
    journal = Journal(cmd.cli_ctx.config.config_dir, snapshot.scale_set.id)
    record = usable_record(journal, intent)
    intent = replace(intent, restore=record.running if record else frozenset())
    plan = make_plan(snapshot, intent)
    for warning in plan.warnings + (() if plan.is_noop() else autoscale_warnings(cmd, snapshot.scale_set)):
        logger.warning('%s', warning)
    if dry_run or plan.is_noop():
        if plan.is_noop() and not dry_run:
            journal.clear()
            say_give_back(record.capacities if record else ())
            logger.warning('Nothing to do: the scale set is already %s.',
                           'detached' if intent.action == 'detach' else 'attached to this group')
        return result(intent, plan, plan_steps=True, status=build_status(snapshot), dry_run=dry_run)
    ask = prompting(cmd.cli_ctx, yes)
    confirm(snapshot, intent, plan, ask)
    if ask:  # the prompt may have stayed open for minutes: plan again from what Azure reports now
        snapshot, plan = fresh(survey, snapshot, intent, plan)
        if plan.is_noop():
            return result(intent, plan, plan_steps=True, status=build_status(snapshot))
    again = finish_command(snapshot.scale_set, intent)
    earlier = record.deallocated if record else frozenset()
    origins = origins_of(snapshot, record)
    # zero-capacity: what each reservation had, kept across an interruption (a re-run finds them at 0 already)
    previous = tuple(dict((record.capacities if record else ()) + previous_capacities(plan)).items())
    record = replace(new_record(intent, plan.restore, record.started if record else None, origins),
                     capacities=previous)
    if previous:
        journal.save(replace(record, deallocated=earlier))
    progress = Progress(cmd.cli_ctx)
    executor = make_executor(cmd, client, snapshot, intent, concurrency=concurrency, progress=progress)
    executor.taken_down.update(k for k in earlier if k in plan.restore)  # an earlier run's, to start again too
    with interruptible():
        try:
            done = executor.run(plan.steps, on_deallocate=journal_recorder(journal, record, earlier))
        except StepFailed as ex:
            compensate(executor, plan, origins)
            say_give_back(previous)
            raise failure(ex, read_or_none(survey), intent, again, executor.returned) from ex
        except (KeyboardInterrupt, Cancelled) as ex:
            logger.warning('Interrupted: stopping; press Ctrl-C again to abort at once (the journal is kept).')
            compensate(executor, plan, origins)
            say_give_back(previous)
            raise interrupted(read_or_none(survey), intent, again, progress.stopped()) from ex
        except Exception:
            compensate(executor, plan, origins)
            raise
    wait_for_group_lists(client, snapshot, intent)
    after = survey()
    verify(after, intent, plan, again)
    journal.clear()
    say_give_back(previous)
    return result(intent, plan, steps=done, status=build_status(after), previous=previous)


def journal_recorder(journal, record, earlier):
    """What the executor calls before each deallocation: the journal records the members it takes down, and those
    found running that the plan did not know of (`running`: instances added since), to start them again."""
    def on_deallocate(keys, running=()):
        nonlocal record
        record = replace(record, running=record.running | frozenset(running))
        journal.save(replace(record, deallocated=earlier | frozenset(keys)))
    return on_deallocate


def make_executor(cmd, client, snapshot, intent, **options):
    return Executor(client, snapshot, allocation_timeout=cmd.cli_ctx.config.getint(
        'vmsscrg', 'allocation_retry_timeout', fallback=ALLOCATION_RETRY_TIMEOUT),
        max_unavailable=intent.max_unavailable, leave_deallocated=intent.leave_deallocated, **options)


def say_give_back(previous):
    """zero-capacity: each reservation's capacity before, and the command that gives it back."""
    for item in give_back(previous):
        logger.warning("Reservation %s was set to capacity 0 (it had %d). To give it back: %s",
                       item['reservation'].rsplit('/', 1)[-1], item['previousCapacity'], item['command'])


def wait_for_group_lists(client, snapshot, intent):
    """Verify once the groups' association lists show the change (they may lag the machines' own models)."""
    groups = [g.id for g in (snapshot.group, snapshot.target) if g is not None]
    wanted = intent.group_id if intent.action == 'attach' else None
    if groups and not wait_for_lists(client, groups, [i.id for i in snapshot.instances], wanted):
        logger.warning("The capacity reservation groups' lists of associated machines do not show every change yet "
                       "(Azure updates them some time after the machines); status reads them, and may lag too.")


def autoscale_warnings(cmd, scale_set):
    return tuple("Autoscale setting '{name}' targets this scale set: it may add or remove instances while this "
                 "command runs, and an instance it adds during a deallocation is not planned for. Consider pausing it "
                 "until the command ends: az monitor autoscale update -g {rg} -n {name} --enabled false".format(
                     name=name, rg=scale_set.resource_group)
                 for name in autoscale_settings(cf_autoscale(cmd.cli_ctx), scale_set))


def usable_record(journal, intent):
    """The journal's record when it belongs to this command; one for another action or group, or too old, is
    reported and left alone."""
    record = journal.load()
    if record is None:
        return None
    why_not = record.applies_to(intent.action, intent.group_id)
    if why_not:
        logger.warning('An earlier run of this scale set did not finish (%s); its record is not applied because %s. '
                       'Members it stopped and that are still deallocated stay so; start them yourself if they '
                       'should run (record: %s).', record.describe(), why_not, journal.path)
        return None
    return record


def fresh(survey, snapshot, intent, plan, rounds=3):
    """Read again after the prompt; when the plan changed, say what changed and ask again."""
    for _ in range(rounds):
        now = survey()
        again = make_plan(now, intent)
        text = changes(plan, again)
        if not text:
            return now, again
        confirm(now, intent, again, True, prefix=text)
        snapshot, plan = now, again
    return snapshot, plan


def origins_of(snapshot, record):
    """The group each member and the model came from: the journal's (an earlier run's) first, then what the
    snapshot shows now."""
    origins = {member_key(i): i.group_id for i in snapshot.instances if i.group_id}
    if snapshot.scale_set.model_group_id:
        origins[snapshot.scale_set.id] = snapshot.scale_set.model_group_id
    origins.update(record.origins if record else {})
    return origins


def compensate(executor, plan, origins=None):
    try:
        executor.compensate(plan.restore, origins)
    except KeyboardInterrupt:  # a second Ctrl-C (or SIGTERM): abort at once
        logger.warning('Aborted: members this run deallocated may still be deallocated. The record of them is kept: '
                       'running the same command again finishes the job and starts them again.')
        raise
    except Exception as ex:  # pylint: disable=broad-except
        logger.error('Could not start again what this run deallocated: %s', ex)


def read_or_none(survey):
    try:
        return survey()
    except Exception:  # pylint: disable=broad-except
        return None


@contextmanager
def interruptible():
    """SIGTERM stops the run as Ctrl-C does: the first one compensates, a second aborts at once."""
    def stop(*_):
        raise KeyboardInterrupt()
    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
