# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`up` and `down`: run the simulator in the background and point a stock `az` at it."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid

from . import tls

CONFIG, PID, PORT, LOG, ENV, REQUESTS = "config.json", "pid", "port", "armsim.log", "env", "requests.log"
AZ_ENV = {"AZURE_CORE_COLLECT_TELEMETRY": "0", "AZURE_CORE_SURVEY_MESSAGE": "false",
          "AZURE_CORE_NO_COLOR": "true"}


class LifecycleError(Exception):
    pass


def find_az():
    """$ARMSIM_AZ, else the `az` next to this Python (the project's virtual environment), else the one on PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "az")
    found = os.environ.get("ARMSIM_AZ") or (local if os.access(local, os.X_OK) else shutil.which("az"))
    if not found or not os.access(found, os.X_OK):
        raise LifecycleError("armsim: the Azure CLI ('az') was not found next to {} or on PATH. Install the "
                             "project's environment first (make venv).".format(sys.executable))
    return found


def extension_dir():
    """Where `az` finds extensions after `source DIR/env`: $AZURE_EXTENSION_DIR if set, else `cliextensions` in the
    virtual environment this Python runs in (the project's: .venv/cliextensions, where the Makefile installs the
    extension), else az's own default. Never under DIR/azure, which every `up` makes anew."""
    if os.environ.get("AZURE_EXTENSION_DIR"):
        return os.path.abspath(os.environ["AZURE_EXTENSION_DIR"])
    if sys.prefix != sys.base_prefix:
        return os.path.join(sys.prefix, "cliextensions")
    return os.path.join(os.path.expanduser("~"), ".azure", "cliextensions")


def load_config(directory):
    path = os.path.join(directory, CONFIG)
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def write_config(directory, overrides):
    """The simulator's identity (subscription, tenant, service principal) and options, kept per directory."""
    config = load_config(directory)
    config.setdefault("subscription_id", str(uuid.uuid4()))
    config.setdefault("tenant_id", str(uuid.uuid4()))
    config.setdefault("client_id", str(uuid.uuid4()))
    config.setdefault("client_secret", secrets.token_urlsafe(24))
    config.update({k: v for k, v in overrides.items() if v is not None})
    path = os.path.join(directory, CONFIG)
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    os.chmod(path, 0o600)
    return config


def running_pid(directory):
    try:
        with open(os.path.join(directory, PID)) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def up(directory, lro_seconds=None, page_size=None, state_file=None, port=0, timeout=30, consistency_seconds=None,
       pause_scale=None, rule_overrides=(), write_budget=None, faults=None, synchronous=None,
       capacity=None, arm_limits=None):
    """Start `serve` in the background. `rule_overrides`: `ID=READING` strings (decision rules' readings, rules.py).
    `write_budget`: writes per minute, or "N/S" per S seconds (rule W13); 0 removes a budget set before.
    `faults`: a fault spec (faults.py), turned on once stock az is signed in, so that signing in meets none.
    `synchronous`: the W10 shortcut (writes answered synchronously at lro 0); never needed by a test.
    `capacity`: "LOCATION[/ZONE]:SIZE=COUNT" strings, on-demand pools (rules K1-K7); None keeps the ones set before.
    `arm_limits`: ARM's and Compute's buckets (rules W14, W15), "on" or "reads=250/25,..."; "off" removes them.
    `lro_seconds`: seconds, or "MEAN:SPREAD[:SEED]" (rule W16)."""
    from . import faults as fault_spec, rules, throttle
    from .backend import LroOptionError, parse_lro
    from .models import allocation
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    try:
        rules.parse_overrides(rule_overrides)
        throttle.parse(write_budget)
        throttle.parse_limits(arm_limits)
        parse_lro(lro_seconds)
        fault_spec.parse(faults)
        allocation.parse_all(capacity)
    except (rules.RuleOptionError, throttle.BudgetOptionError, throttle.LimitsOptionError, LroOptionError,
            fault_spec.FaultSpecError, allocation.CapacitySpecError) as e:
        raise LifecycleError(str(e)) from e
    az = find_az()
    if running_pid(directory):
        raise LifecycleError("armsim: already running for {} (pid {}). Run 'python -m armsim down --dir {}' "
                             "first.".format(directory, running_pid(directory), directory))
    config = write_config(directory, {"lro_seconds": lro_seconds, "page_size": page_size,
                                      "state_file": os.path.abspath(state_file) if state_file else None,
                                      "consistency_seconds": consistency_seconds, "pause_scale": pause_scale,
                                      "write_budget": None if write_budget is None else str(write_budget),
                                      "synchronous": synchronous,
                                      "arm_limits": None if arm_limits is None else str(arm_limits),
                                      "capacity": None if capacity is None else list(capacity)})
    _, _, bundle = tls.ensure_certificate(directory)
    port_file = os.path.join(directory, PORT)
    if os.path.exists(port_file):
        os.remove(port_file)
    with open(os.path.join(directory, LOG), "ab") as log:
        command = [sys.executable, "-m", "armsim", "serve", "--dir", directory, "--port", str(port)]
        for item in rule_overrides or ():
            command += ["--rule", item]
        proc = subprocess.Popen(command,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    deadline = time.time() + timeout
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            if proc.poll() is None:
                proc.kill()
            raise LifecycleError("armsim: the server did not start:\n" + _tail(os.path.join(directory, LOG)))
        time.sleep(0.05)
    with open(port_file) as f:
        bound = int(f.read())
    with open(os.path.join(directory, PID), "w") as f:
        f.write(str(proc.pid))
    try:
        _configure_az(az, directory, bound, bundle, config)
    except LifecycleError:
        down(directory)
        raise
    if faults:
        from .client import Client
        Client(directory).call("POST", "/simulator/faults", {"spec": faults}, auth=False)
    return bound


def _configure_az(az, directory, port, bundle, config):
    """Prepare DIR/azure with stock az commands: no instance discovery, the armsim cloud, a service principal login."""
    azure_dir = os.path.join(directory, "azure")
    shutil.rmtree(azure_dir, ignore_errors=True)
    env = dict(os.environ, AZURE_CONFIG_DIR=azure_dir, REQUESTS_CA_BUNDLE=bundle, **AZ_ENV)
    endpoint = "https://127.0.0.1:{}/".format(port)
    steps = [
        ["config", "set", "core.instance_discovery=false"],
        ["cloud", "register", "-n", "armsim", "--endpoint-resource-manager", endpoint],
        ["cloud", "set", "-n", "armsim"],
        ["login", "--service-principal", "-u", config["client_id"], "--password=" + config["client_secret"],
         "--tenant", config["tenant_id"], "--output", "none"],
    ]
    for args in steps:
        done = subprocess.run([az] + args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            shown = " ".join(a if not a.startswith("--password=") else "--password=***" for a in args)
            raise LifecycleError("armsim: 'az {}' failed ({}):\n{}".format(
                shown, done.returncode, done.stderr.strip()))
    lines = ["# armsim at {}: source this file to point az at the simulator".format(endpoint),
             "export AZURE_CONFIG_DIR={}".format(azure_dir), "export REQUESTS_CA_BUNDLE={}".format(bundle),
             "export ARMSIM_URL={}".format(endpoint.rstrip("/")), "export ARMSIM_DIR={}".format(directory),
             "export ARMSIM_SUBSCRIPTION={}".format(config["subscription_id"]),
             "export AZURE_EXTENSION_DIR={}".format(extension_dir()),
             "export PATH={}:$PATH".format(os.path.dirname(az))]
    lines += ["export {}={}".format(k, v) for k, v in AZ_ENV.items()]
    with open(os.path.join(directory, ENV), "w") as f:
        f.write("\n".join(lines) + "\n")


def read_env(directory):
    """The variables `source DIR/env` sets, expanded against the current environment."""
    env = {}
    with open(os.path.join(directory, ENV)) as f:
        for line in f:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = os.path.expandvars(value)
    return env


def down(directory, timeout=10):
    """Stop the simulator started by `up` for this directory; True if one was running."""
    directory = os.path.abspath(directory)
    pid = running_pid(directory)
    pid_file = os.path.join(directory, PID)
    if pid is None:
        if os.path.exists(pid_file):
            os.remove(pid_file)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
    os.remove(pid_file)
    return True


def _alive(pid):
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child, now reaped
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _tail(path, lines=20):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"
