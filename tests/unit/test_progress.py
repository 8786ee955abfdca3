# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""_progress.Progress on the CLI's own progress controller: lines on any stream, a bar only on a terminal."""
import io
import threading

import pytest
from azure.cli.core.mock import DummyCli

from azext_vmsscrg._progress import Progress, elapsed


class Stream(io.StringIO):
    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def reporter(terminal, only_show_errors=False, interval=30):
    cli = DummyCli()
    cli.only_show_errors = only_show_errors
    out, clock = Stream(terminal), Clock()
    return Progress(cli, out=out, clock=clock, interval=interval), out, clock


def run(progress, clock):
    progress.begin(2)
    progress.step(1, 'set the model\'s group')
    progress.advance(1, 1)
    clock.now += 5
    progress.step(2, 'deallocate 4 VM(s) (batch 1)')
    for done in range(5):
        progress.advance(done, 4)
        clock.now += 20
    progress.end(ok=True)


def test_without_a_terminal_lines_only_no_carriage_return_no_level_prefix():
    progress, out, clock = reporter(terminal=False)
    run(progress, clock)

    assert out.getvalue().splitlines() == [
        "[0:00] Step 1/2: set the model's group",
        '[0:05] Step 2/2: deallocate 4 VM(s) (batch 1)',
        '[0:45] Step 2/2: 2/4 done',
        '[1:25] Step 2/2: 4/4 done',
        '[1:45] Done: 2 steps.',
    ]
    assert '\r' not in out.getvalue() and '\x1b' not in out.getvalue()


def test_on_a_terminal_the_bar_is_erased_before_each_line():
    progress, out, clock = reporter(terminal=True)
    run(progress, clock)
    text = out.getvalue()

    lines = [chunk.rsplit('\x1b[K', 1)[-1] for chunk in text.split('\n') if chunk]
    assert lines == ["[0:00] Step 1/2: set the model's group", '[0:05] Step 2/2: deallocate 4 VM(s) (batch 1)',
                     '[1:45] Done: 2 steps.']
    bars = [chunk for chunk in text.split('\r\x1b[K') if chunk.startswith('  [')]
    assert bars[-1] == '  [##############################] 4/4  1:25'
    assert '  [---------------' in bars[1] and '0/4' in bars[1]
    assert 'Finished' not in text and 'WARNING' not in text and text.count('Done') == 1


def test_a_long_label_does_not_squeeze_the_bar():
    progress, out, _ = reporter(terminal=True)
    progress.begin(1)
    progress.step(1, 'associate /subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/'
                     'capacityReservationGroups/{}'.format('0' * 36, 'r' * 90, 'g' * 80))
    progress.advance(1, 2)

    assert '[###############---------------] 1/2' in out.getvalue()


def test_only_show_errors_prints_nothing_on_success():
    for terminal in (True, False):
        progress, out, clock = reporter(terminal=terminal, only_show_errors=True)
        run(progress, clock)
        assert out.getvalue() == ''


@pytest.mark.parametrize('terminal', [True, False])
def test_after_an_interrupt_nothing_but_what_was_done(terminal):
    progress, out, clock = reporter(terminal=terminal)
    progress.begin(4)
    progress.step(1, 'set the model\'s group')
    progress.step(2, 'deallocate 10 members (batch 1/3)')
    progress.advance(3, 10)
    clock.now += 12
    progress.end(ok=False)
    progress.advance(4, 10)  # compensation runs after the end: it draws nothing

    tail = out.getvalue().rsplit('\n', 1)[-1]
    assert tail.endswith('3/10  0:00\r\x1b[K') if terminal else tail == ''
    assert progress.stopped() == ('Stopped in step 2/4: deallocate 10 members (batch 1/3); 1 step was done before '
                                  'it, and 3/10 of its members.')
    assert 'Done' not in out.getvalue() and '100' not in out.getvalue() and '4/10' not in out.getvalue()


def test_a_failure_only_erases_the_bar():
    progress, out, _ = reporter(terminal=True)
    progress.begin(1)
    progress.step(1, 'start 2 VM(s)')
    progress.advance(1, 2)
    progress.end(ok=False)

    assert out.getvalue().endswith('1/2  0:00\r\x1b[K')


def test_advance_from_worker_threads():
    progress, out, _ = reporter(terminal=False, interval=0)
    progress.begin(1)
    progress.step(1, 'start 200 VM(s)')
    count, lock = [0], threading.Lock()

    def one():
        with lock:
            count[0] += 1
            done = count[0]
        progress.advance(done, 200)

    workers = [threading.Thread(target=one) for _ in range(200)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    lines = out.getvalue().splitlines()
    assert len(lines) == 201 and all(line.startswith('[0:00] Step 1/1: ') for line in lines)
    assert sorted(int(line.split(': ')[1].split('/')[0]) for line in lines[1:]) == list(range(1, 201))


NAMES = ['web', 'api', 'batch', 'jobs']


def run_parts(progress, names):
    """Each name a part run by its own thread, all at once: 2 steps, the first of 50 members."""
    barrier = threading.Barrier(len(names), timeout=10)

    def one(name):
        part = progress.part(name)
        barrier.wait()
        part.begin(2)
        part.step(1, 'deallocate 50 members')
        for done in range(1, 51):
            part.advance(done, 50)
        part.step(2, 'start 50 members')
        part.end(ok=True)

    workers = [threading.Thread(target=one, args=(name,)) for name in names]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_parts_from_threads_write_whole_lines_named_after_their_run():
    progress, out, clock = reporter(terminal=False, interval=0)
    clock.now += 7  # a part's times count from the whole's start
    run_parts(progress, NAMES)

    lines = out.getvalue().splitlines()
    assert len(lines) == len(NAMES) * 53
    for name in NAMES:
        mine = [line[len('[0:07] '):] for line in lines if line.startswith(f'[0:07] {name}: ')]
        assert mine == [f'{name}: Step 1/2: deallocate 50 members'] + [
            f'{name}: Step 1/2: {done}/50 done' for done in range(1, 51)] + [
            f'{name}: Step 2/2: start 50 members', f'{name}: Done: 2 steps.']
    assert '\r' not in out.getvalue()


def test_parts_on_a_terminal_name_the_bar_and_stop_on_their_own():
    progress, out, _ = reporter(terminal=True)
    web, api = progress.part('web'), progress.part('api')
    web.begin(2)
    api.begin(1)
    web.step(1, 'deallocate 4 members')
    api.step(1, 'start 2 members')
    web.advance(1, 4)
    assert out.getvalue().endswith('] web: 1/4  0:00')
    api.advance(1, 2)
    assert out.getvalue().endswith('] api: 1/2  0:00')
    web.end(ok=False)
    api.end(ok=True)

    assert web.stopped() == 'Stopped in step 1/2: deallocate 4 members; 0 steps were done before it, and 1/4 of ' \
                            'its members.'
    assert api.stopped().startswith('Stopped in step 1/1: start 2 members')
    lines = [chunk.rsplit('\x1b[K', 1)[-1] for chunk in out.getvalue().split('\n') if chunk]
    assert lines == ['[0:00] web: Step 1/2: deallocate 4 members', '[0:00] api: Step 1/1: start 2 members',
                     '[0:00] api: Done: 1 step.']


def test_parts_with_only_show_errors_print_nothing():
    progress, out, _ = reporter(terminal=False, only_show_errors=True, interval=0)
    run_parts(progress, NAMES)
    assert out.getvalue() == ''


def test_elapsed():
    assert [elapsed(s) for s in (0, 7.9, 62, 3723)] == ['0:00', '0:07', '1:02', '1:02:03']
