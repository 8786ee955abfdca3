# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""A simulator started for the benchmark, `az` run against it, and what its request log says about a run."""
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter

from armsim import lifecycle
from armsim.client import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
AZ = os.path.join(BIN, "az")
EXTENSIONS = os.path.join(os.path.dirname(BIN), "cliextensions")
METHODS = ("GET", "PUT", "PATCH", "POST", "DELETE")


class Sim:
    """One running simulator: its ARM client, its request log, and `az` configured against it."""

    def __init__(self, directory, lro_seconds, write_budget=None, arm_limits=None):
        self.dir = directory
        self.lro_seconds = lro_seconds
        self.write_budget = write_budget
        self.arm_limits = arm_limits
        self.client = Client(directory)
        self.sub = self.client.sub
        self._env = lifecycle.read_env(directory)

    def env(self, **extra):
        env = dict(os.environ)
        env.update(self._env)
        env.setdefault("AZURE_EXTENSION_DIR", EXTENSIONS)
        env.update(extra)
        return env

    def az(self, *args, check=True):
        """Run `az args` as a person would; returns (seconds, completed process)."""
        started = time.perf_counter()
        done = subprocess.run([AZ] + list(args), env=self.env(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=4 * 3600)
        seconds = time.perf_counter() - started
        if check and done.returncode != 0:
            raise RuntimeError("az {} exited {}:\n{}".format(" ".join(args), done.returncode, done.stderr[-3000:]))
        return seconds, done

    def mark(self):
        return self.client.requests_since(0)["next"]

    def requests(self, since):
        return self.client.requests_since(since)["requests"]

    @property
    def throttled(self):
        """True when the simulator runs with a write budget or ARM's limits."""
        return bool(self.write_budget or self.arm_limits)

    def throttle(self):
        """The throttles' counters (armsim/throttle.py), or None when the simulator has none."""
        status, _, body = self.client.call("GET", "/simulator/throttle", auth=False)
        return body if status == 200 else None

    def reset(self):
        self.client.call("POST", "/simulator/reset", auth=False)
        if self.throttled:
            self.reset_throttle()

    def reset_throttle(self):
        self.client.call("DELETE", "/simulator/throttle", auth=False)

    def settle(self, timeout=600):
        """Wait until no event (long-running operation) is pending."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            _, _, health = self.client.call("GET", "/simulator/health", auth=False)
            if not health["pendingEvents"]:
                return
            time.sleep(0.2)
        raise RuntimeError("armsim still has pending events after {} s".format(timeout))


def counts(entries):
    """Requests by method (ARM paths only: token and metadata requests are az's, not the procedure's), and 429
    answers: all, and by what refused them (reads, writes, deletes: ARM's buckets; compute: Compute's; budget: the
    write budget; fault: an injected one)."""
    c = Counter(e["method"] for e in entries if e["path"].lower().startswith("/subscriptions/"))
    out = {m: c.get(m, 0) for m in METHODS}
    refused = [e for e in entries if e["status"] == 429]
    out["429"] = len(refused)
    out["429_by"] = dict(Counter(e.get("throttled") or ("fault" if e.get("fault") else "other") for e in refused))
    return out


@contextlib.contextmanager
def running(directory, lro_seconds, write_budget=None, arm_limits=None):
    """A simulator with operations taking `lro_seconds` (seconds, or MEAN:SPREAD:SEED), and a write budget per
    minute or ARM's limits when given."""
    options = {"lro_seconds": lro_seconds}
    if write_budget:
        options["write_budget"] = write_budget
    if arm_limits:
        options["arm_limits"] = arm_limits
    lifecycle.down(directory)
    lifecycle.up(directory, **options)
    try:
        yield Sim(directory, lro_seconds, write_budget, arm_limits)
    finally:
        lifecycle.down(directory)
