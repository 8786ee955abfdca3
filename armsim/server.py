# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTPS front end: parse requests, dispatch to the route table, render responses, log requests."""
import json
import logging
import socket
import ssl
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from . import auth, throttle
from .errors import ArmError, InternalServerError, NoRegisteredProviderFound, InvalidRequestContent
from .ids import ResourceId
from . import jsonc
from .models.common import require_group

log = logging.getLogger("armsim")


class Request:
    def __init__(self, method, target, headers, raw, base_url):
        parts = urlsplit(target)
        self.method = method
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.query_string = parts.query
        self.query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        self.headers = headers
        self.raw = raw
        self.base_url = base_url
        self._json = None
        self.fault = None  # the fault injected into this request, if any (faults.py)
        self.throttled = None  # what throttled it, if anything (throttle.Limits.check)

    @property
    def json(self):
        if self._json is None and self.raw:
            try:
                self._json = jsonc.loads(self.raw)
            except ValueError as e:
                raise InvalidRequestContent("The request content was invalid and could not be deserialized: "
                                            "{}".format(e)) from e
        return self._json

    def url(self, path, **query):
        """An absolute URL on this server."""
        q = "&".join("{}={}".format(k, v) for k, v in query.items() if v is not None)
        return self.base_url + path + ("?" + q if q else "")


class Response:
    def __init__(self, status=200, body=None, headers=None):
        self.status, self.body, self.headers = status, body, dict(headers or {})


class RequestLog:
    """Every request the simulator answered: method, path, query, status, start time, duration."""

    def __init__(self, path=None):
        self.entries = []
        self.path = path
        self.lock = threading.Lock()

    def add(self, entry):
        with self.lock:
            entry["seq"] = len(self.entries)
            self.entries.append(entry)
            if self.path:
                with open(self.path, "a") as f:
                    f.write(json.dumps(entry) + "\n")

    def since(self, seq):
        with self.lock:
            return self.entries[seq:]

    def clear(self):
        with self.lock:
            self.entries = []


def make_handler(app):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "armsim"

        def log_message(self, fmt, *args):  # the request log replaces the default stderr lines
            pass

        def handle(self):
            # The TLS handshake runs here, in the connection's own thread: in the accepting thread, one client
            # slow to answer would hold up every new connection. And each answer goes out as soon as it is
            # written: with Nagle's algorithm its body would wait for the client's delayed ACK of its headers
            # (40 ms for every request a client sends on a kept-alive connection).
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                return  # a client that went away or does not speak TLS
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

        def _serve(self):
            start = time.time()
            raw = self._body()
            if raw is None:  # the client went away before its whole request arrived: ARM never acts on such a request
                self.close_connection = True
                log.warning("dropped %s %s: the connection closed before the body it announced arrived",
                            self.command, self.path.split("?")[0])
                return
            req = Request(self.command, self.path, self.headers, raw, app.base_url)
            resp = app.dispatch(req)
            dropped = req.fault in ("reset", "reset-after")  # faults.py: close the connection without an answer
            if dropped:
                self.close_connection = True
            else:
                self._answer(resp)
            if not req.path.startswith("/simulator/"):
                entry = {"method": req.method, "path": req.path, "query": req.query_string,
                         "status": 0 if dropped else resp.status, "start": start, "duration": time.time() - start}
                if req.fault:
                    entry["fault"] = req.fault
                if req.throttled:
                    entry["throttled"] = req.throttled
                app.log.add(entry)

        def _body(self):
            """The request's body; None when the connection closed before all the bytes Content-Length announced
            (a client killed between sending its headers and its body, as urllib3 sends them apart): read as an
            empty body, a POST start or deallocate would name no instance and act on the whole scale set."""
            try:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    return self._chunks()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
            except (OSError, ValueError):  # reset by the peer, TLS ended mid-record, or a length that is no number
                return None
            return raw if len(raw) == length else None

        def _chunks(self):
            """A body sent with Transfer-Encoding: chunked (no Content-Length); None when it ends early."""
            raw = b""
            while True:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\n"):
                    return None
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if not size:
                    break
                chunk = self.rfile.read(size + 2)
                if len(chunk) < size + 2:
                    return None
                raw += chunk[:size]
            while line not in (b"\r\n", b"\n"):  # trailers, up to the empty line that ends the request
                line = self.rfile.readline(1024)
                if not line.endswith(b"\n"):
                    return None
            return raw

        def _answer(self, resp):
            payload = b""
            if resp.body is not None:
                payload = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
            self.send_response(resp.status)
            headers = {"Content-Type": "application/json; charset=utf-8", "x-ms-request-id": app.request_id()}
            headers.update(resp.headers)
            for k, v in headers.items():
                self.send_header(k, str(v))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler


class App:
    """Routes requests to handlers, with the backend lock held and due events run first."""

    def __init__(self, backend, routes, log_path=None):
        self.backend = backend
        self.routes = routes
        self.log = RequestLog(log_path)
        self.throttle = throttle.of(backend.options, clock=lambda: backend.clock())  # W13-W15: budget, limits
        self.base_url = None
        self._ids = 0

    def request_id(self):
        self._ids += 1
        return "armsim-{:08d}".format(self._ids)

    def dispatch(self, req):
        limits = {}  # the rate-limit headers every answer to a subscription's request carries (W14, W15)
        resp = self._dispatch(req, limits)
        for key, value in limits.items():
            resp.headers.setdefault(key, value)
        return resp

    def _dispatch(self, req, limits):
        try:
            route, groups = self.routes.match(req.method, req.path)
            if not route.public:
                auth.check(self.backend, req)
                # rules W13-W15 (the write budget, ARM's and Compute's buckets), then injected faults (faults.py:
                # may delay or refuse)
                refusal = None
                sub = req.path.split("/")[2] if req.path.lower().startswith("/subscriptions/") else None
                if self.throttle and sub:
                    refusal, headers = self.throttle.check(req, sub, self.backend.options.client_id)
                    limits.update(headers)
                refusal = refusal or self.backend.faults.on_request(req)
                if refusal:
                    return Response(*refusal)
            with self.backend.lock:
                ran = self.backend.tick()
                if route.in_group:
                    require_group(self.backend, ResourceId(groups["sub"], groups["group"]))
                resp = route.handler(self.backend, req, **groups)
                if not isinstance(resp, Response):
                    resp = Response(200, resp)
                if ran or req.method not in ("GET", "HEAD"):
                    self.backend.save()
            return resp
        except ArmError as e:
            return Response(e.status, e.body())
        except Exception:  # a simulator bug: answer like ARM does, and say where
            log.error("unhandled error for %s %s\n%s", req.method, req.path, traceback.format_exc())
            err = InternalServerError("armsim internal error: " + traceback.format_exc().splitlines()[-1])
            return Response(err.status, err.body())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(app, host, port, certfile, keyfile, ready=None):
    """Serve HTTPS until interrupted. `ready(port)` is called once the socket listens."""
    httpd = Server((host, port), make_handler(app))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    actual_port = httpd.server_address[1]
    app.base_url = "https://{}:{}".format(host, actual_port)
    if ready:
        ready(actual_port)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()


def unknown_route(method, path):
    return NoRegisteredProviderFound(
        "No registered resource provider found for the request {} {} in armsim.".format(method, path))
