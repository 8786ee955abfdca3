# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Tokens for the client-credentials flow (rule W3): HS256 JWTs signed with the service principal's secret."""
import base64
import hashlib
import hmac
import json
import time

from .errors import AuthorizationFailed, InvalidAuthenticationToken

AUDIENCE = "https://management.core.windows.net/"
LIFETIME = 24 * 3600


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(options, scope=None):
    now = int(time.time())
    claims = {"aud": AUDIENCE, "iss": "https://sts.windows.net/{}/".format(options.tenant_id),
              "iat": now, "nbf": now, "exp": now + LIFETIME, "appid": options.client_id,
              "oid": options.client_id, "sub": options.client_id, "tid": options.tenant_id,
              "idtyp": "app", "ver": "1.0", "scp": scope or ""}
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(options.client_secret.encode(), "{}.{}".format(head, body).encode(), hashlib.sha256).digest()
    return "{}.{}.{}".format(head, body, _b64(sig))


def verify(options, token):
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(options.client_secret.encode(), "{}.{}".format(head, body).encode(),
                            hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(sig)):
            return False
        return json.loads(_unb64(body))["exp"] > time.time()
    except (ValueError, KeyError):
        return False


def check(backend, req):
    header = req.headers.get("Authorization") or ""
    if not header.startswith("Bearer "):
        raise InvalidAuthenticationToken("Authentication failed. The 'Authorization' header is missing.")
    if not verify(backend.options, header[len("Bearer "):]):
        raise InvalidAuthenticationToken("The access token is invalid or has expired.")
    sub = req.path.split("/")[2] if req.path.lower().startswith("/subscriptions/") else None
    if sub and sub.lower() != backend.options.subscription_id.lower():
        raise AuthorizationFailed(
            "The client '{0}' with object id '{0}' does not have authorization to perform action '{1}' over scope "
            "'{2}' or the scope is invalid.".format(backend.options.client_id, req.method, req.path))
