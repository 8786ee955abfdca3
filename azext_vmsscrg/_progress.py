# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Progress of attach and detach on stderr, through the CLI's progress controller.

    progress = Progress(cmd.cli_ctx)
    progress.begin(len(steps))
    progress.step(1, 'deallocate 10 VM(s) (batch 1)')   # a line: [0:00] Step 1/4: deallocate 10 VM(s) (batch 1)
    progress.advance(4, 10)                            # members done in this step: a live bar on a terminal
    progress.end(ok=True)                              # a line: [0:42] Done: 4 steps.
    progress.end(ok=False, finish='az vmss ...')       # after an interrupt: what was done and how to finish

One line per step, no level prefix. On a terminal a bar under it counts the step's members; elsewhere (a CI log, a
file) there is no bar and no carriage return, only a line every `interval` seconds while a step runs long. With
--only-show-errors only the summary of end(ok=False, finish=...) is written."""
import shutil
import sys
import threading
import time

from azure.cli.core.commands.progress import ProgressViewBase

ERASE = '\r\x1b[K'  # back to the start of the line and clear it
BAR_WIDTH = 30


def elapsed(seconds):
    """0:07, 1:02, 1:02:03."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return '{}:{:02d}:{:02d}'.format(hours, minutes, secs) if hours else '{}:{:02d}'.format(minutes, secs)


class StepView(ProgressViewBase):
    """The CLI's view contract (write, flush, clear) for the progress controller, plus whole lines. `write` draws
    the bar, on a terminal only; a line first erases the bar, so the two never share a line."""

    def __init__(self, out, live):
        super().__init__(out)
        self.live = live
        self.drawn = False

    def write(self, args):
        if not self.live or args.get('percent') is None:
            return
        columns = shutil.get_terminal_size((80, 24)).columns
        text = args.get('message', '')
        width = max(10, min(BAR_WIDTH, columns - len(text) - 6))
        filled = int(width * args['percent'])
        self.out.write('{}  [{}{}] {}'.format(ERASE, '#' * filled, '-' * (width - filled), text)[:columns + 4])
        self.drawn = True

    def line(self, text):
        self.clear()
        self.out.write(text + '\n')
        self.flush()

    def flush(self):
        self.out.flush()

    def clear(self):
        if self.drawn:
            self.out.write(ERASE)
            self.drawn = False
            self.flush()


class Progress:
    """Steps and their members, as lines and a live bar. `out` (default stderr), `clock` and `interval` (seconds
    between the lines written without a terminal while a step runs) are there for tests."""

    def __init__(self, cli_ctx, out=None, clock=time.monotonic, interval=30):
        out = out or sys.stderr
        self.quiet = bool(getattr(cli_ctx, 'only_show_errors', False))
        self.view = StepView(out, live=not self.quiet and _is_terminal(out))
        self.hook = cli_ctx.get_progress_controller(det=True)
        self.hook.init_progress(self.view)
        self.clock = clock
        self.interval = interval
        self.lock = threading.Lock()
        self.started = self.last_line = clock()
        self.total_steps = 0
        self.current = None  # (n, label)
        self.members = (0, 0)  # done, total in the current step

    def begin(self, total_steps):
        with self.lock:
            self.started = self.last_line = self.clock()
            self.total_steps = total_steps
            self.current, self.members = None, (0, 0)

    def step(self, n, label):
        """Step `n` (1-based) of begin's total starts: one line."""
        with self.lock:
            self.current, self.members = (n, label), (0, 0)
            self._line('Step {}/{}: {}'.format(n, self.total_steps, label))

    def advance(self, done, total):
        """`done` of the step's `total` members are done. Safe to call from the step's worker threads."""
        with self.lock:
            self.members = (done, total)
            if self.quiet or not total:
                return
            if self.view.live:
                self.hook.add(message='{}/{}  {}'.format(done, total, elapsed(self.clock() - self.started)),
                              value=done, total_val=total)
            elif self.clock() - self.last_line >= self.interval and self.current:
                self._line('Step {}/{}: {}/{} done'.format(self.current[0], self.total_steps, done, total))

    def end(self, ok, finish=None):
        """The run is over. ok: one closing line. Not ok: the bar goes; with `finish` (the command that finishes the
        job, after an interrupt), what was done and that command, even with --only-show-errors."""
        with self.lock:
            self.view.clear()
            if ok:
                self._line('Done: {} step{}.'.format(self.total_steps, '' if self.total_steps == 1 else 's'))
            elif finish:
                self._line(self._summary() + '\nTo finish, run: ' + finish, always=True)

    def _summary(self):
        if not self.current:
            return 'Stopped before the first step; nothing was changed.'
        n, label = self.current
        done, total = self.members
        text = 'Stopped in step {}/{} ({}): {} step{} done before it'.format(
            n, self.total_steps, label, n - 1, '' if n - 1 == 1 else 's')
        return text + (', {}/{} of its members done.'.format(done, total) if total else '.')

    def _line(self, text, always=False):
        now = self.clock()
        self.last_line = now
        if always or not self.quiet:
            self.view.line('[{}] {}'.format(elapsed(now - self.started), text))


def _is_terminal(out):
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False
