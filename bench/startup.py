# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the installed extension adds to `az vmss -h`: medians of alternated runs with and without it."""
import os
import statistics
import subprocess
import tempfile
import time

from .sim import AZ, EXTENSIONS

COMMAND = ["vmss", "-h"]


def measure(runs=15):
    with tempfile.TemporaryDirectory() as tmp:
        envs = {}
        for label, extensions in (("without", os.path.join(tmp, "no-extensions")), ("with", EXTENSIONS)):
            os.makedirs(extensions, exist_ok=True)
            env = dict(os.environ, AZURE_EXTENSION_DIR=extensions,
                       AZURE_CONFIG_DIR=os.path.join(tmp, "config-" + label), AZURE_CORE_COLLECT_TELEMETRY="0",
                       AZURE_CORE_SURVEY_MESSAGE="false")
            for key in ("ARMSIM_DIR", "REQUESTS_CA_BUNDLE"):
                env.pop(key, None)
            envs[label] = env
        for env in envs.values():  # warm: the command index of each configuration is built on first use
            for _ in range(2):
                _run(env)
        times = {label: [] for label in envs}
        for _ in range(runs):
            for label, env in envs.items():
                times[label].append(_run(env))
    out = {label: round(statistics.median(t) * 1000) for label, t in times.items()}
    out["added_ms"] = out["with"] - out["without"]
    out["runs"] = runs
    out["command"] = "az " + " ".join(COMMAND)
    return out


def _run(env):
    started = time.perf_counter()
    subprocess.run([AZ] + COMMAND, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started
