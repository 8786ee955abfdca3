# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""A small ARM client for the simulator's own tools (seeding, tests, benchmarks): token, JSON, LRO waits."""
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from . import lifecycle, tls

API = "2024-11-01"


class ArmError(Exception):
    def __init__(self, status, body):
        super().__init__("{} {}".format(status, body))
        self.status, self.body = status, body


class Calls:
    """`request` and `list` over a `call(method, path, body)`; `pause()` waits before polling again."""

    def pause(self):
        time.sleep(0.05)

    def request(self, method, path, body=None, wait=True):
        """Like `call`, but raises on an error and, when `wait`, waits for a long-running operation."""
        status, headers, data = self.call(method, path, body)
        if status >= 400:
            raise ArmError(status, data)
        op = headers.get("Azure-AsyncOperation") or headers.get("azure-asyncoperation")
        if wait and op:
            while True:
                _, _, state = self.call("GET", op)
                if state["status"] != "InProgress":
                    break
                self.pause()
            if state["status"] != "Succeeded":
                raise ArmError(400, state)
            if method in ("PUT", "PATCH"):
                data = self.request("GET", path)
        return data

    def list(self, path):
        """Every item of a list, following nextLink (W7)."""
        items, page = [], self.request("GET", path)
        while True:
            items += page["value"]
            if not page.get("nextLink"):
                return items
            page = self.request("GET", page["nextLink"])


class Client(Calls):
    def __init__(self, directory):
        directory = os.path.abspath(directory)
        with open(os.path.join(directory, lifecycle.PORT)) as f:
            self.base = "https://127.0.0.1:{}".format(int(f.read()))
        self.config = lifecycle.load_config(directory)
        self.sub = self.config["subscription_id"]
        self.ctx = ssl.create_default_context(cafile=os.path.join(directory, tls.CERT))
        self._token = None

    def token(self):
        if self._token is None:
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.config["client_id"],
                                           "client_secret": self.config["client_secret"],
                                           "scope": "https://management.core.windows.net//.default"}).encode()
            url = "{}/{}/oauth2/v2.0/token".format(self.base, self.config["tenant_id"])
            with urllib.request.urlopen(urllib.request.Request(url, form), context=self.ctx) as r:
                self._token = json.load(r)["access_token"]
        return self._token

    def call(self, method, path, body=None, auth=True):
        """(status, headers, json body or None). Paths may be absolute URLs."""
        url = path if path.startswith("https://") else self.base + path
        if "api-version=" not in url and not path.startswith("/simulator/"):
            url += ("&" if "?" in url else "?") + "api-version=" + API
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", "Bearer " + self.token())
        try:
            with urllib.request.urlopen(req, context=self.ctx) as r:
                raw = r.read()
                return r.status, dict(r.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, dict(e.headers), json.loads(raw) if raw else None

    def requests_since(self, seq=0):
        return self.call("GET", "/simulator/requests?since={}".format(seq), auth=False)[2]
