# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`python -m armsim up|down|serve`: readiness, persistence, clear errors, nothing left running."""
import os
import signal
import socket
import subprocess
import sys

from conftest import ROOT, Sim, start_serve
from armsim import lifecycle


def armsim(*args, env=None):
    return subprocess.run([sys.executable, "-m", "armsim"] + list(args), cwd=ROOT, capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120)


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with open("/proc/{}/stat".format(pid)) as f:
        return f.read().split()[2] != "Z"


def test_up_configures_stock_az_and_down_stops_it(tmp_path):
    d = str(tmp_path / "sim")
    done = armsim("up", "--dir", d)
    assert done.returncode == 0, done.stderr
    pid = lifecycle.running_pid(d)
    try:
        env_file = open(os.path.join(d, "env")).read()
        for key in ("AZURE_CONFIG_DIR", "REQUESTS_CA_BUNDLE", "AZURE_CORE_COLLECT_TELEMETRY"):
            assert "export {}=".format(key) in env_file
        _, account, _ = Sim(d).az("account", "show")
        assert account["environmentName"] == "armsim" and account["user"]["type"] == "servicePrincipal"
        again = armsim("up", "--dir", d)
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        assert armsim("down", "--dir", d).returncode == 0
    assert not alive(pid)
    assert "not running" in armsim("down", "--dir", d).stdout


def test_readme_sequence_finds_the_extension_after_down_and_up(tmp_path):
    """README: `armsim up`, `source DIR/env`, `az` with the extension `make extension` installed; again after `down`
    and `up` (DIR/azure is made anew each time), with no AZURE_EXTENSION_DIR in the shell beforehand."""
    d = str(tmp_path / "sim")
    shell = {k: v for k, v in os.environ.items() if k != "AZURE_EXTENSION_DIR"}
    for _ in range(2):
        assert armsim("up", "--dir", d, env=shell).returncode == 0
        try:
            assert lifecycle.read_env(d)["AZURE_EXTENSION_DIR"] == os.path.join(sys.prefix, "cliextensions")
            done = subprocess.run(["bash", "-c", 'source "$1/env" && az vmss capacity-reservation status -h', "-", d],
                                  env=shell, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
                                  cwd=d)
            assert done.returncode == 0 and "Show whether a scale set" in done.stdout, done.stderr
        finally:
            assert armsim("down", "--dir", d).returncode == 0


def test_state_file_survives_restart(tmp_path):
    d, state = str(tmp_path / "sim"), str(tmp_path / "state.json")
    proc = start_serve(d, "--state-file", state)
    Sim(d).client.request("PUT", "/subscriptions/{}/resourceGroups/kept".format(Sim(d).sub), {"location": "eastus"})
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    proc = start_serve(d, "--state-file", state)
    try:
        status, _, body = Sim(d).client.call("GET", "/subscriptions/{}/resourceGroups/kept".format(Sim(d).sub))
        assert status == 200 and body["name"] == "kept"
    finally:
        proc.terminate()
        proc.wait(10)


def test_clear_error_when_port_is_taken(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = armsim("up", "--dir", str(tmp_path / "sim"), "--port", str(port))
    assert done.returncode == 1 and "cannot listen on 127.0.0.1:{}".format(port) in done.stderr
    assert lifecycle.running_pid(str(tmp_path / "sim")) is None


def test_clear_error_when_certificate_is_broken(tmp_path):
    d = tmp_path / "sim"
    d.mkdir()
    (d / "cert.pem").write_text("not a certificate")
    (d / "key.pem").write_text("not a key")
    done = armsim("up", "--dir", str(d))
    assert done.returncode == 1 and "cannot load the TLS certificate" in done.stderr


def test_clear_error_when_az_is_missing(tmp_path):
    done = armsim("up", "--dir", str(tmp_path / "sim"), env=dict(os.environ, ARMSIM_AZ="/nonexistent/az"))
    assert done.returncode == 1 and "Azure CLI ('az') was not found" in done.stderr
    assert lifecycle.running_pid(str(tmp_path / "sim")) is None


def test_requests_are_logged(http_sim):
    http_sim.client.request("PUT", "/subscriptions/{}/resourceGroups/logged".format(http_sim.sub),
                            {"location": "eastus"})
    log = http_sim.requests()["requests"]
    assert [(e["method"], e["status"]) for e in log][-1] == ("PUT", 201)
    assert log[-1]["path"].endswith("/resourceGroups/logged") and log[-1]["duration"] >= 0
    assert os.path.exists(os.path.join(http_sim.dir, "requests.log"))
