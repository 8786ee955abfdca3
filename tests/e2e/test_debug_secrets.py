# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`--debug` output of status, attach and detach holds no token, client secret or private key, even when the
command signs in afresh (no cached token) and its requests are logged in full. The cassettes' part of this is
tests/scenario/test_scenario_cassettes.py."""
import json
import os
import re
import shutil

import pytest

from landscapes import crg, seed, uniform

RG = "secrets-rg"
JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}")


def secrets_of(sim):
    """What must never be printed: the service principal's secret, the simulator's TLS key, any issued token."""
    with open(os.path.join(sim.dir, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(sim.dir, "key.pem")) as f:
        key_lines = [line for line in f.read().splitlines() if line and not line.startswith("-----")]
    return {"client secret": config["client_secret"], "private key line": max(key_lines, key=len),
            "a bearer token": sim.client.token()}


@pytest.fixture(scope="module")
def sim(az_sim):
    seed(az_sim, RG, [crg()], [uniform()])
    return az_sim


@pytest.mark.parametrize("args", [
    ["status", "-g", RG, "-n", "u"],
    ["detach", "-g", RG, "-n", "u", "--yes"],
    ["attach", "-g", RG, "-n", "u", "--crg", "g", "--dry-run"],
    ["attach", "-g", RG, "-n", "u", "--crg", "g", "--yes"],
    ["attach", "-g", RG, "-n", "missing", "--crg", "g", "--yes"],  # an error's path too
], ids=lambda a: " ".join(a[:1] + a[5:]))
def test_debug_output_holds_no_secret(sim, tmp_path, args):
    # a copy of the signed-in configuration without cached tokens: the command signs in under --debug
    config_dir = str(tmp_path / "azure")
    shutil.copytree(sim.env()["AZURE_CONFIG_DIR"], config_dir,
                    ignore=shutil.ignore_patterns("msal_token_cache*", "commands"))
    code, out, err = sim.az("vmss", "capacity-reservation", *args, "--debug", expect=None,
                            env=sim.env(AZURE_CONFIG_DIR=config_dir))
    text = (out if isinstance(out, str) else json.dumps(out)) + err
    assert "/oauth2/v2.0/token" in err and "Authorization" in err  # signed in, and requests logged with headers
    found = [what for what, value in secrets_of(sim).items() if value in text]
    found += ["a JWT: " + m.group(0)[:12] for m in JWT.finditer(text)]
    found += [m.group(0) for m in re.finditer(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----|client_secret=[^&\s*]+|Bearer\s+[\w.~+/-]{8,}", text)]
    assert found == [], found
    assert (code == 0) == (args[4] != "missing")
