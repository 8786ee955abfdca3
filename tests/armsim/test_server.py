# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The HTTPS front end (armsim/server.py) reading requests as a client sends them: headers and body apart, as
urllib3 (under the Azure SDK) does, and a client killed between the two."""
import json
import os
import socket
import ssl
import time

from armsim import tls

SCALE_SET = {"name": "u", "orchestrationMode": "Uniform", "upgradePolicy": "Manual", "sku": "Standard_D2s_v3",
             "capacity": 3, "zones": [], "capacityReservationGroup": None, "power": {"2": "deallocated"}}


def seeded(sim, rg):
    sim.seed({"location": "eastus", "resourceGroups": [{"name": rg, "scaleSets": [SCALE_SET]}]})
    return "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/u".format(
        sim.sub, rg)


def powers(sim, base):
    views = sim.client.list(base + "/virtualMachines?$expand=instanceView")
    return {i["instanceId"]: [s["code"] for s in i["properties"]["instanceView"]["statuses"]
                              if s["code"].startswith("PowerState/")][0].split("/")[1] for i in views}


def connect(sim):
    with open(os.path.join(sim.dir, "port")) as f:
        port = int(f.read())
    ctx = ssl.create_default_context(cafile=os.path.join(sim.dir, tls.CERT))
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")


def head(sim, path, body, framing="Content-Length: {}"):
    return ("POST {}?api-version=2024-11-01 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
            "Content-Type: application/json\r\n" + framing + "\r\n\r\n").format(
                path, sim.client.token(), len(body)).encode()


def test_body_sent_apart_from_the_headers_is_read(http_sim):
    base = seeded(http_sim, "split")
    body = json.dumps({"instanceIds": ["2"]}).encode()
    with connect(http_sim) as s:
        s.sendall(head(http_sim, base + "/start", body))
        s.sendall(body)
        assert s.recv(4096).startswith(b"HTTP/1.1 202")
    assert powers(http_sim, base) == {"0": "running", "1": "running", "2": "running"}


def test_chunked_body_is_read(http_sim):
    """Transfer-Encoding: chunked, no Content-Length (what urllib3 sends for a body of unknown length): read as an
    empty body, this deallocation of instance 0 named none and deallocated the whole scale set."""
    base = seeded(http_sim, "chunked")
    body = json.dumps({"instanceIds": ["0"]}).encode()
    with connect(http_sim) as s:
        s.sendall(head(http_sim, base + "/deallocate", body, "Transfer-Encoding: chunked"))
        for part in (body[:5], body[5:]):
            s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        s.sendall(b"0\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 202")
    assert powers(http_sim, base) == {"0": "deallocated", "1": "running", "2": "deallocated"}


def test_request_whose_body_never_arrived_is_not_acted_on(http_sim):
    """A client killed after its headers, before its body: ARM never acts on a request it did not receive whole.
    Read as an empty body, the POST start named no instance and started the whole scale set (instance 2 too)."""
    base = seeded(http_sim, "killed")
    mark = http_sim.mark()
    body = json.dumps({"instanceIds": ["0", "1"]}).encode()
    s = connect(http_sim)
    s.sendall(head(http_sim, base + "/start", body))
    s.close()  # as the kernel closes a killed process's socket: no TLS close_notify, no body
    log = os.path.join(http_sim.dir, "serve.log")
    deadline = time.time() + 30  # until the simulator has dealt with the request, one way or the other
    while time.time() < deadline:
        with open(log, errors="replace") as f:
            if "dropped POST" in f.read():
                break
        if powers(http_sim, base)["2"] != "deallocated":
            break
        time.sleep(0.05)
    assert powers(http_sim, base) == {"0": "running", "1": "running", "2": "deallocated"}
    assert [e for e in http_sim.requests(mark)["requests"] if e["path"].endswith("/start")] == []
