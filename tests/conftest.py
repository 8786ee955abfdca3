# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Shared fixtures: simulators started for a test session, and `az` run against them."""
import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from armsim import lifecycle  # noqa: E402
from armsim.client import Client  # noqa: E402

BIN = os.path.dirname(sys.executable)
AZ = os.path.join(BIN, "az")

# Set before the CLI is first imported in this process, which reads them then (whichever test module comes first):
# the extension `make extension` installed (the Makefile exports the same directory), and an Azure CLI configuration
# directory of each test process's own (each pytest-xdist worker's), away from ~/.azure, for the CLI run in this
# process (DummyCli, the scenario tests). Recording live keeps the one `source DIR/env` (or `az login`) set up.
os.environ.setdefault("AZURE_EXTENSION_DIR", os.path.join(os.path.dirname(BIN), "cliextensions"))
if not os.environ.get("AZURE_TEST_RUN_LIVE"):
    os.environ["AZURE_CONFIG_DIR"] = tempfile.mkdtemp(
        prefix="vmsscrg-azure-{}-".format(os.environ.get("PYTEST_XDIST_WORKER", "main")))
    atexit.register(shutil.rmtree, os.environ["AZURE_CONFIG_DIR"], True)


class Sim:
    """A simulator process: its directory, an ARM client, and `az` configured against it (when `with_az`)."""

    def __init__(self, directory, proc=None):
        self.dir = directory
        self.proc = proc
        self.client = Client(directory)
        self.sub = self.client.sub

    def env(self, **extra):
        """The environment `source DIR/env` gives, plus the project's extension directory."""
        env = dict(os.environ, **lifecycle.read_env(self.dir))
        # the extension installed by `make extension` (the Makefile exports the same directory)
        env.setdefault("AZURE_EXTENSION_DIR", os.path.join(os.path.dirname(BIN), "cliextensions"))
        env.update(extra)
        return env

    def az(self, *args, expect=0, env=None):
        """Run stock `az` against this simulator; return (exit code, parsed JSON or text, stderr)."""
        # cwd away from the checkout: `python -m azure.cli` puts the working directory first on sys.path,
        # which would load azext_vmsscrg from the source tree instead of the installed wheel
        done = subprocess.run([AZ] + list(args), env=env or self.env(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300, cwd=self.dir)
        if expect is not None and done.returncode != expect:
            raise AssertionError("az {} exited {} (expected {}):\n{}\n{}".format(
                " ".join(args), done.returncode, expect, done.stdout[-2000:], done.stderr[-4000:]))
        try:
            out = json.loads(done.stdout) if done.stdout.strip() else None
        except ValueError:
            out = done.stdout
        return done.returncode, out, done.stderr

    def seed(self, spec):
        from armsim import seed
        path = os.path.join(self.dir, "seed-{}.json".format(time.time_ns()))
        with open(path, "w") as f:
            json.dump(spec, f)
        return json.loads(seed.run(self.dir, path))

    def requests(self, since=0):
        return self.client.requests_since(since)

    def mark(self):
        """The request log position now, to read what a command sent afterwards."""
        return self.requests()["next"]

    def reset(self):
        self.client.call("POST", "/simulator/reset", auth=False)


def start_serve(directory, *options):
    """Start `python -m armsim serve` in the foreground of a child process; wait until it listens."""
    os.makedirs(directory, exist_ok=True)
    port_file = os.path.join(directory, lifecycle.PORT)
    if os.path.exists(port_file):
        os.remove(port_file)
    log = open(os.path.join(directory, "serve.log"), "ab")
    proc = subprocess.Popen([sys.executable, "-m", "armsim", "serve", "--dir", directory] + list(options),
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("armsim serve did not start; see " + log.name)
        time.sleep(0.05)
    return proc


@contextlib.contextmanager
def sim_up(directory, **options):
    """A simulator started with `up` and these options (lifecycle.up's), stock az logged in; stopped after."""
    lifecycle.up(directory, **options)
    try:
        yield Sim(directory)
    finally:
        lifecycle.down(directory)


@contextlib.contextmanager
def sims_up(tmp_path_factory, prefix, options):
    """Simulators by name, one per entry of options, started at once; stopped after.
    Their directories are made first, in this thread: pytest's temporary directories are not thread-safe."""
    directories = {name: str(tmp_path_factory.mktemp(prefix + name)) for name in options}
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(options)) as pool:
        started = {name: pool.submit(lifecycle.up, directories[name], **options[name]) for name in options}
        for name, future in started.items():
            if future.exception() is None:
                stack.callback(lifecycle.down, directories[name])
        for future in started.values():
            future.result()
        yield {name: Sim(directories[name]) for name in options}


@pytest.fixture(scope="session")
def az_sim(tmp_path_factory):
    """One simulator for the session, started with `up` (so stock az is logged in), stopped with `down`."""
    directory = str(tmp_path_factory.mktemp("armsim-az"))
    lifecycle.up(directory)
    try:
        yield Sim(directory)
    finally:
        lifecycle.down(directory)


@pytest.fixture()
def http_sim(tmp_path):
    """A fresh simulator per test, without az configuration, stopped afterwards."""
    proc = start_serve(str(tmp_path / "sim"))
    try:
        yield Sim(str(tmp_path / "sim"), proc)
    finally:
        proc.terminate()
        proc.wait(10)
