# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Progress of attach and detach on stderr, through the CLI's progress controller.

    progress = Progress(cmd.cli_ctx)
    progress.begin(len(steps))
    progress.step(1, 'deallocate 10 members (batch 1/3)')  # a line: [0:00] Step 1/4: deallocate 10 members ...
    progress.advance(4, 10)                              # members done in this step: a live bar on a terminal
    progress.end(ok=True)                                # a line: [0:42] Done: 4 steps.
    progress.end(ok=False)                               # failed or interrupted: the bar goes, nothing more
    progress.stopped()                                   # then: what was done, for the error that follows
    web = progress.part('web')                           # runs going on at once (a group's scale sets): lines
                                                         # [0:03] web: Step 1/4: ..., one stream, lock and clock

One line per step, no level prefix. On a terminal a bar under it counts the step's members; elsewhere (a CI log, a
file) there is no bar and no carriage return, only a line every `interval` seconds while a step runs long. With
--only-show-errors nothing is written. Without a CLI context (cli_ctx None) nothing is written either."""
import copy
import shutil
import sys
import threading
import time
from dataclasses import dataclass

from azure.cli.core.commands.progress import ProgressViewBase

ERASE = '\r\x1b[K'  # back to the start of the line and clear it
BAR_WIDTH = 30


def elapsed(seconds):
    """0:07, 1:02, 1:02:03."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f'{hours}:{minutes:02d}:{secs:02d}' if hours else f'{minutes}:{secs:02d}'


class StepView(ProgressViewBase):
    """The CLI's view contract (write, flush, clear) for the progress controller, plus whole lines. `write` draws
    the bar, on a terminal only; a line first erases the bar, so the two never share a line. `quiet`
    (--only-show-errors): nothing."""

    def __init__(self, out, quiet):
        super().__init__(out)
        self.quiet = quiet
        self.live = not quiet and _is_terminal(out)
        self.drawn = False

    def write(self, args):
        if not self.live or args.get('percent') is None:
            return
        columns = shutil.get_terminal_size((80, 24)).columns
        text = args.get('message', '')
        width = max(10, min(BAR_WIDTH, columns - len(text) - 6))
        filled = int(width * args['percent'])
        self.out.write(f"{ERASE}  [{'#' * filled}{'-' * (width - filled)}] {text}"[:columns + len(ERASE)])
        self.drawn = True

    def line(self, text):
        if self.quiet:
            return
        self.clear()
        self.out.write(f"{text}\n")
        self.flush()

    def flush(self):
        self.out.flush()

    def clear(self):
        if self.drawn:
            self.out.write(ERASE)
            self.drawn = False
            self.flush()


@dataclass
class _Run:
    started: float
    last_line: float
    total_steps: int = 0
    current: tuple = None  # (n, label) of the step running
    members: tuple = (0, 0)  # done, total in that step
    over: bool = False  # end() was called: what runs after (compensation) draws nothing


class Progress:
    """Steps and their members, as lines and a live bar. `out` (default stderr), `clock` and `interval` (seconds
    between the lines written without a terminal while a step runs) are there for tests."""

    def __init__(self, cli_ctx, out=None, clock=time.monotonic, interval=30):
        quiet = cli_ctx is None or bool(getattr(cli_ctx, 'only_show_errors', False))
        self.view = StepView(out or sys.stderr, quiet=quiet)
        self.hook = None
        if cli_ctx is not None:
            self.hook = cli_ctx.get_progress_controller(det=True)
            self.hook.init_progress(self.view)
        self.clock = clock
        self.interval = interval
        self.lock = threading.Lock()
        self.run = _Run(clock(), clock())
        self.prefix = ''  # a part's: its name

    def part(self, name):
        """The progress of one of several runs going on at once, from any thread: its own steps, lines that start
        with `name`, and this one's stream, bar, lock and start time."""
        with self.lock:
            part = copy.copy(self)
            part.prefix = f'{name}: '
            part.run = _Run(self.run.started, self.clock())
        return part

    def begin(self, total_steps):
        with self.lock:
            now = self.clock()  # a part's times count from its whole's start
            self.run = _Run(self.run.started if self.prefix else now, now, total_steps)

    def step(self, n, label):
        """Step `n` (1-based) of begin's total starts: one line."""
        with self.lock:
            self.run.current, self.run.members = (n, label), (0, 0)
            self._line(f'Step {n}/{self.run.total_steps}: {label}')

    def advance(self, done, total):
        """`done` of the step's `total` members are done. Safe to call from the step's worker threads."""
        with self.lock:
            if self.run.over:
                return
            self.run.members = (done, total)
            if self.view.quiet or not total:
                return
            if self.view.live:
                self.hook.add(message=f'{self.prefix}{done}/{total}  {elapsed(self.clock() - self.run.started)}',
                              value=done, total_val=total)
            elif self.clock() - self.run.last_line >= self.interval and self.run.current:
                self._line(f'Step {self.run.current[0]}/{self.run.total_steps}: {done}/{total} done')

    def end(self, ok):
        """The run is over. ok: one closing line. Not ok (a failure or an interruption): the bar goes; the error
        that follows says what was done (stopped()) and how to finish."""
        with self.lock:
            self.run.over = True
            self.view.clear()
            if ok:
                steps = self.run.total_steps
                self._line(f"Done: {steps} step{'' if steps == 1 else 's'}.")

    def stopped(self):
        """What was done before the run stopped, in one sentence."""
        with self.lock:
            if not self.run.current:
                return 'Stopped before the first step.'
            (n, label), (done, total) = self.run.current, self.run.members
            before = f"{n - 1} step{' was' if n - 1 == 1 else 's were'} done before it"
            members = f', and {done}/{total} of its members.' if total else '.'
            return f'Stopped in step {n}/{self.run.total_steps}: {label}; {before}{members}'

    def _line(self, text):
        now = self.clock()
        self.run.last_line = now
        self.view.line(f'[{elapsed(now - self.run.started)}] {self.prefix}{text}')


def _is_terminal(out):
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
