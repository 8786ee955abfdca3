# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Replay the requests of real Azure recordings (VCR cassettes) against armsim and compare the answers.

Used by test_conformance.py. A recording is read in place from ../shared/reference/azure-recordings/.
For each recording: the requests armsim serves are classified (`classify`), the resources the recording
got from requests armsim does not serve (ARM template deployments) are seeded first (`Replay.seed`),
then every served request is sent in order and its answer compared with the recorded one
(`Replay.run`): status code, the set of response field paths (`paths`), and the presence of the
long-running-operation headers.
"""
import copy
import json
import os
import re
import time
from urllib.parse import parse_qsl, urlsplit

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ../shared/reference next to the checkout; VMSSCRG_REFERENCE names it for a checkout elsewhere (a worktree)
REFERENCE = os.environ.get("VMSSCRG_REFERENCE") or os.path.join(ROOT, "..", "shared", "reference")
RECORDINGS = os.path.join(REFERENCE, "azure-recordings")
RECORDED_SUB = "00000000-0000-0000-0000-000000000000"
# response headers whose presence is compared (values always differ)
LRO_HEADERS = ("azure-asyncoperation", "location", "azure-asyncnotification", "retry-after")
# keys whose values are compared too (see `values`)
STABLE = ("type", "orchestrationMode")

_SUB = r"/subscriptions/[^/]+"
_RG = _SUB + r"/resourcegroups/[^/]+"
_COMPUTE = r"(?:/resourcegroups/[^/]+)?/providers/microsoft\.compute/"
SERVED = [
    ("resource group", re.compile(_RG + "$")),
    ("compute operation", re.compile(_SUB + r"/providers/microsoft\.compute/locations/[^/]+/operations/[^/]+$")),
    ("capacity reservation", re.compile(_SUB + _COMPUTE + r"capacityreservationgroups(/.*)?$")),
    ("scale set", re.compile(_SUB + _COMPUTE + r"virtualmachinescalesets(/.*)?$")),
    ("virtual machine", re.compile(_SUB + _COMPUTE + r"virtualmachines(/.*)?$")),
]
NOT_SERVED = [
    ("ARM template deployment", re.compile(r"/providers/microsoft\.resources/deployments(/|$)")),
    ("image lookup", re.compile(r"/providers/microsoft\.compute/locations/[^/]+/publishers/")),
    ("network resource", re.compile(r"/providers/microsoft\.network/")),
    ("key vault", re.compile(r"/providers/microsoft\.keyvault/")),
    ("generic resource query", re.compile(_SUB + r"/resources$")),
]

# Fields Azure computes and armsim must compute too: removed from a recorded body before it seeds a resource.
READ_ONLY = {
    "all": ["id", "name", "type", "etag", "properties.provisioningState", "properties.timeCreated"],
    "virtualmachinescalesets": ["properties.uniqueId", "properties.virtualMachineProfile.timeCreated"],
    "virtualmachines": ["properties.vmId", "properties.instanceView", "properties.storageProfile.dataDisks",
                        "properties.storageProfile.imageReference.exactVersion",
                        "properties.storageProfile.osDisk.name", "properties.storageProfile.osDisk.managedDisk.id"],
}


def recordings():
    return sorted(f for f in os.listdir(RECORDINGS) if f.endswith(".yaml")) if os.path.isdir(RECORDINGS) else []


def load(name):
    with open(os.path.join(RECORDINGS, name)) as f:
        return yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["interactions"]


def classify(method, uri):
    """('served', family) or ('skipped', reason) for a recorded request."""
    parts = urlsplit(uri)
    if parts.hostname != "management.azure.com":
        return "skipped", "non-ARM host"
    path = parts.path.lower().rstrip("/")
    for reason, regex in NOT_SERVED:
        if regex.search(path):
            return "skipped", reason
    for family, regex in SERVED:
        if regex.match(path):
            return "served", family
    return "unclassified", path


def paths(value, prefix=""):
    """The set of field paths of a JSON value: keys joined by '.', list items as '[]' (indices collapsed).

    Every key yields its own path, so an empty list or object still shows up as its key."""
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = "{}.{}".format(prefix, key) if prefix else key
            out.add(path)
            out |= paths(item, path)
    elif isinstance(value, list):
        for item in value:
            out.add(prefix + "[]")
            out |= paths(item, prefix + "[]")
    return out


def values(value, prefix="", out=None):
    """{path: set of values} of the values that must match exactly, casing included: resource types,
    orchestration modes, power states."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            path = "{}.{}".format(prefix, key) if prefix else key
            if key in STABLE and isinstance(item, str):
                out.setdefault(path, set()).add(item)
            values(item, path, out)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and str(item.get("code", "")).startswith("PowerState/"):
                out.setdefault(prefix + "[].code=PowerState", set()).add(item["code"])
            values(item, prefix + "[]", out)
    return out


def parent(path):
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ""


def roots(found):
    """The paths of `found` whose parent is not in `found`: a missing object counts once, not per field."""
    return sorted(p for p in found if parent(p) not in found)


def body_of(response):
    text = (response.get("body") or {}).get("string") or ""
    if isinstance(text, bytes):
        text = text.decode()
    return json.loads(text) if text.strip() else None


def header(response, name):
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return None


def op_key(url):
    """The operation id of a Compute operation-status URL."""
    m = re.search(r"/operations/([^/?]+)", url or "")
    return m.group(1).lower() if m else None


def drop(body, dotted):
    keys = dotted.split(".")
    for key in keys[:-1]:
        body = body.get(key) if isinstance(body, dict) else None
    if isinstance(body, dict):
        body.pop(keys[-1], None)


def resource_type(rid):
    """'resourcegroups', 'capacityreservationgroups', ... (lower case) of a resource id; None for other ids."""
    m = re.match(r"^/subscriptions/[^/]+/resourcegroups/[^/]+(?:/providers/microsoft\.compute/(.*))?$", rid, re.I)
    if not m:
        return None
    if not m.group(1):
        return "resourcegroups"
    parts = m.group(1).lower().split("/")
    return "/".join(parts[0::2]) if len(parts) % 2 == 0 else None


def as_vm(member):
    """The VM id of a Flexible scale set's member, from its id under the scale set."""
    return re.sub(r"/virtualmachinescalesets/[^/]+/virtualmachines/", "/virtualMachines/", member, flags=re.I)


class Difference:
    def __init__(self, index, request, kind, detail):
        self.index, self.request, self.kind, self.detail = index, request, kind, detail

    def __str__(self):
        return "#{} {}: {} {}".format(self.index, self.request, self.kind, self.detail)


class Replay:
    """One recording replayed against a simulator (`sim`: conftest.Sim)."""

    def __init__(self, sim, name):
        self.sim, self.name = sim, name
        self.interactions = load(name)
        self.served, self.skipped, self.unclassified = [], {}, []
        for i, it in enumerate(self.interactions):
            verdict, what = classify(it["request"]["method"], it["request"]["uri"])
            if verdict == "served":
                self.served.append(i)
            elif verdict == "skipped":
                self.skipped[what] = self.skipped.get(what, 0) + 1
            else:
                self.unclassified.append((i, what))
        self.names = {}  # recorded resource id (lower case) -> the simulator's id, for generated names
        self.ops = {}  # recorded operation id -> (Azure-AsyncOperation, Location) the simulator answered
        self.differences = []
        self.sent = self.compared = 0

    # --- mapping recorded requests onto the simulator ---------------------------------------------
    def sub(self, text):
        return re.sub(RECORDED_SUB, self.sim.sub, text)

    def map_path(self, path):
        path = self.sub(path)
        for old in sorted(self.names, key=len, reverse=True):
            if path.lower() == old or path.lower().startswith(old + "/"):
                return self.names[old] + path[len(old):]
        return path

    def map_body(self, text):
        text = self.sub(text)
        for old, new in self.names.items():
            text = re.sub(re.escape(old), new, text, flags=re.I)
        return text

    def recorded_path(self, i):
        return self.sub(urlsplit(self.interactions[i]["request"]["uri"]).path)

    # --- prerequisites ----------------------------------------------------------------------------
    def known_bodies(self):
        """Resource bodies in the served responses, by id (lower case), earliest first."""
        found = {}
        for i in self.served:
            body = body_of(self.interactions[i]["response"])
            items = body.get("value") if isinstance(body, dict) and isinstance(body.get("value"), list) else [body]
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found.setdefault(self.sub(item["id"]).lower(), (i, item))
        return found

    def deployment_outputs(self):
        """Resources an ARM deployment made, from the deployment's template and outputs (by id, lower case)."""
        found = {}
        for i, it in enumerate(self.interactions):
            req = it["request"]
            if req["method"] != "PUT" or "/deployments/" not in req["uri"]:
                continue
            group = re.search(r"/resourcegroups/([^/]+)/", req["uri"], re.I).group(1)
            template = json.loads(req["body"])["properties"]["template"]
            outputs = {}
            for later in self.interactions[i + 1:]:
                if later["request"]["method"] == "GET" and later["request"]["uri"].split("?")[0] == \
                        req["uri"].split("?")[0]:
                    outputs = (body_of(later["response"]) or {}).get("properties", {}).get("outputs") or {}
                    break
            for res in template["resources"]:
                if not res["type"].startswith("Microsoft.Compute/"):
                    continue
                rid = "/subscriptions/{}/resourceGroups/{}/providers/{}/{}".format(
                    self.sim.sub, group, res["type"], res["name"]).lower()
                body = {k: res[k] for k in ("location", "tags", "zones", "sku") if k in res}
                for output in outputs.values():  # `vmss create` outputs the scale set's properties
                    if isinstance(output.get("value"), dict) and "virtualMachineProfile" in output["value"]:
                        body["properties"] = output["value"]
                found.setdefault(rid, body)
        return found

    def seed(self):
        """Create what the served requests need that the recording got elsewhere."""
        client = self.sim.client
        known, deployed = self.known_bodies(), self.deployment_outputs()
        created = {}  # id (lower) -> index of the served PUT that creates it
        needed = {}  # id (lower) -> index of first reference
        for i in self.served:
            rid = self.target_id(self.recorded_path(i))
            if rid is None:
                continue
            if self.interactions[i]["request"]["method"] == "PUT":
                created.setdefault(rid.lower(), i)
            for prefix in self.prefixes(rid):
                needed.setdefault(prefix.lower(), i)
        for rid, (i, _) in known.items():  # what a subscription-wide list shows must exist
            if "/resourcegroups/" not in self.recorded_path(i).lower():
                for prefix in self.prefixes(rid):
                    needed.setdefault(prefix, i)
        shared = self.shared_groups()
        order = ("resourcegroups", "capacityreservationgroups", "capacityreservationgroups/capacityreservations",
                 "virtualmachinescalesets", "virtualmachines")
        todo = [r for r in needed if resource_type(r) in order and needed[r] < created.get(r, len(self.interactions))]
        for rid in sorted(todo, key=lambda r: (order.index(resource_type(r)), r)):
            kind = resource_type(rid)
            body = copy.deepcopy(known[rid][1]) if rid in known else copy.deepcopy(deployed.get(rid))
            if kind == "resourcegroups":
                body = {"location": (body or {}).get("location") or self.location(),
                        "tags": (body or {}).get("tags") or {}}
            elif body is None:
                continue  # not a resource the recording shows (e.g. a Uniform instance): made by its parent
            elif kind == "virtualmachines" and (body.get("properties") or {}).get("virtualMachineScaleSet"):
                continue  # a Flexible scale set's member: made by its scale set, mapped in map_members
            else:
                for key in READ_ONLY["all"] + READ_ONLY.get(kind, []):
                    drop(body, key)
                if kind == "capacityreservationgroups":
                    body = {k: body[k] for k in ("location", "tags", "zones") if k in body}
                    if rid in shared:
                        body["properties"] = {"sharingProfile": {"subscriptionIds": [
                            {"id": "/subscriptions/" + self.sim.sub}]}}
            client.request("PUT", self.sim_id(rid), json.loads(self.map_body(json.dumps(body))))
        self.map_members()

    def sim_id(self, rid):
        """A lower-cased recorded id in the casing of the recorded request paths (armsim echoes the casing)."""
        for i in self.served:
            path = self.recorded_path(i)
            if path.lower().startswith(rid):
                return path[:len(rid)]
        return rid

    def location(self):
        for it in self.interactions:
            for text in (it["request"].get("body"), (it["response"].get("body") or {}).get("string")):
                m = re.search(r'"location":\s*"([^"]+)"', text or "") if isinstance(text, str) else None
                if m:
                    return m.group(1)
        return "westus"

    def shared_groups(self):
        """Groups a `resourceIdsOnly=SharedWithSubscription` list shows: seeded shared with the subscription."""
        out = set()
        for i in self.served:
            if "resourceidsonly=sharedwithsubscription" in self.interactions[i]["request"]["uri"].lower():
                for item in (body_of(self.interactions[i]["response"]) or {}).get("value", []):
                    out.add(self.sub(item["id"]).lower())
        return out

    @staticmethod
    def target_id(path):
        m = re.match(r"^(/subscriptions/[^/]+/resourcegroups/[^/]+(?:/providers/[^/]+(?:/[^/]+/[^/]+)+)?)",
                     path, re.I)
        return m.group(1) if m else None

    @staticmethod
    def prefixes(rid):
        parts = rid.split("/")
        out = ["/".join(parts[:5])]
        for n in range(9, len(parts) + 1, 2):
            out.append("/".join(parts[:n]))
        return out

    def map_members(self):
        """Map the recorded instance ids (member names) of seeded scale sets onto the simulator's, in order."""
        done = set()
        for i in self.served:
            path = self.recorded_path(i)
            if self.interactions[i]["request"]["method"] != "GET" or path.lower() in done or not re.search(
                    r"/virtualmachinescalesets/[^/]+/virtualmachines$", path, re.I):
                continue
            done.add(path.lower())
            recorded = [v["instanceId"] for v in (body_of(self.interactions[i]["response"]) or {}).get("value", [])]
            status, _, answer = self.sim.client.call("GET", self.map_path(path) + "?api-version=2024-07-01")
            ours = [v["instanceId"] for v in (answer or {}).get("value", [])] if status == 200 else []
            for old, new in zip(recorded, ours):
                member = "{}/{}".format(path, old)
                self.names[member.lower()] = "{}/{}".format(self.map_path(path), new)
                if not old.isdigit():  # a Flexible member is also a VM of its own
                    self.names[as_vm(member).lower()] = as_vm(self.names[member.lower()])

    # --- replay -----------------------------------------------------------------------------------
    def run(self, allow):
        """Seed, then replay every served request; `allow(recording, kind, detail)` excuses a difference."""
        try:
            self.seed()
        except Exception as e:  # noqa: BLE001  (reported as this recording's failure, not the session's)
            self.differences.append(Difference("-", "seeding", "failed", repr(e)))
            return self
        for i in self.served:
            self.replay(i, allow)
        return self

    def request_of(self, i):
        """(method, url or path, body) to send for recorded interaction i, or None if it cannot be sent."""
        req = self.interactions[i]["request"]
        parts = urlsplit(req["uri"])
        key = op_key(req["uri"]) if "/operations/" in parts.path.lower() else None
        if key:
            if key not in self.ops:
                return None
            async_op, location = self.ops[key]
            monitor = dict(parse_qsl(parts.query)).get("monitor") == "true"
            url = (location or (async_op + "&monitor=true")) if monitor else async_op
            return req["method"], url, None
        body = req.get("body")
        if isinstance(body, bytes):
            body = body.decode()
        body = json.loads(self.map_body(body)) if body else None
        return req["method"], self.map_path(self.sub(parts.path)) + ("?" + parts.query if parts.query else ""), body

    def replay(self, i, allow):
        recorded = self.interactions[i]["response"]
        label = "{} {}".format(self.interactions[i]["request"]["method"],
                               urlsplit(self.interactions[i]["request"]["uri"]).path.split("/providers/")[-1])
        sent = self.request_of(i)
        if sent is None:
            self.differences.append(Difference(i, label, "unsent", "no operation URL from the simulator to poll"))
            return
        method, url, body = sent
        want = body_of(recorded)
        poll = "/operations/" in url and "monitor=true" not in url
        status, headers, got = self.sim.client.call(method, url, body)
        if poll and isinstance(want, dict) and want.get("status") not in (None, "InProgress"):
            deadline = time.time() + 10  # the recording polled until done: so do we
            while (got or {}).get("status") == "InProgress" and time.time() < deadline:
                time.sleep(0.05)
                status, headers, got = self.sim.client.call(method, url, body)
        self.sent += 1
        if poll and (want or {}).get("status") == "InProgress" and (got or {}).get("status") != "InProgress":
            return  # the simulator finished before this recorded poll: nothing to compare it with
        self.compared += 1
        self.remember_ops(recorded, headers)
        found = []
        if status != recorded["status"]["code"]:
            found.append(("status", "{} (recorded {})".format(status, recorded["status"]["code"])))
        want_paths, got_paths = paths(want), paths(got)
        found += [("missing", p) for p in roots(want_paths - got_paths)]
        found += [("extra", p) for p in roots(got_paths - want_paths)]
        want_values, got_values = values(want), values(got)
        for path in sorted(set(want_values) & set(got_values)):
            if want_values[path] != got_values[path]:
                found.append(("value", "{}={} (recorded {})".format(
                    path, "|".join(sorted(got_values[path])), "|".join(sorted(want_values[path])))))
        got_headers = {k.lower() for k in headers}
        for name in LRO_HEADERS:
            has_want, has_got = header(recorded, name) is not None, name in got_headers
            if has_want != has_got:
                found.append(("missing header" if has_want else "extra header", name))
        for kind, detail in found:
            if not allow(self.name, kind, detail):
                self.differences.append(Difference(i, label, kind, detail))

    def remember_ops(self, recorded, headers):
        key = op_key(header(recorded, "azure-asyncoperation") or header(recorded, "location"))
        lower = {k.lower(): v for k, v in headers.items()}
        if key and (lower.get("azure-asyncoperation") or lower.get("location")):
            self.ops[key] = (lower.get("azure-asyncoperation"), lower.get("location"))
