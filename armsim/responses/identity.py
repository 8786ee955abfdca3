# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the Azure CLI itself needs: cloud metadata (W2), OIDC discovery and tokens (W3), subscriptions, tenants."""
import time
from urllib.parse import parse_qsl

from .. import auth
from ..models import resources
from ..server import Response


def metadata(backend, req):
    base = req.base_url + "/"
    return {"name": "armsim", "resourceManager": base, "portal": base, "gallery": base,
            "graph": base, "graphAudience": base, "microsoftGraphResourceId": base,
            "authentication": {"loginEndpoint": base, "audiences": [auth.AUDIENCE, base],
                               "tenant": "common", "identityProvider": "AAD"},
            "suffixes": {"storage": "armsim.local", "keyVaultDns": "vault.armsim.local",
                         "acrLoginServer": "azurecr.armsim.local", "sqlServerHostname": "database.armsim.local"}}


def openid_configuration(backend, req, tenant):
    base = "{}/{}".format(req.base_url, tenant)
    return {"issuer": "{}/v2.0".format(base), "token_endpoint": "{}/oauth2/v2.0/token".format(base),
            "authorization_endpoint": "{}/oauth2/v2.0/authorize".format(base),
            "device_authorization_endpoint": "{}/oauth2/v2.0/devicecode".format(base),
            "jwks_uri": "{}/discovery/v2.0/keys".format(base), "response_types_supported": ["code", "token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "tenant_region_scope": "NA", "cloud_instance_name": "armsim.local"}


def token(backend, req, tenant):
    form = dict(parse_qsl(req.raw.decode()))
    opts = backend.options
    if form.get("grant_type") != "client_credentials":
        return Response(400, {"error": "unsupported_grant_type",
                              "error_description": "armsim supports the client_credentials grant only."})
    if form.get("client_id") != opts.client_id or form.get("client_secret") != opts.client_secret:
        return Response(401, {"error": "invalid_client", "error_description":
                              "AADSTS7000215: Invalid client secret provided for client '{}'."
                              .format(form.get("client_id"))})
    if tenant not in (opts.tenant_id, "organizations", "common"):
        return Response(400, {"error": "invalid_request",
                              "error_description": "AADSTS90002: Tenant '{}' not found.".format(tenant)})
    return {"token_type": "Bearer", "expires_in": auth.LIFETIME, "ext_expires_in": auth.LIFETIME,
            "access_token": auth.issue(opts, form.get("scope")), "expires_on": int(time.time()) + auth.LIFETIME}


def subscriptions(backend, req):
    return {"value": [resources.subscription(backend.options)], "count": {"type": "Total", "value": 1}}


def subscription(backend, req, sub):
    return resources.subscription(backend.options)


def tenants(backend, req):
    return {"value": [resources.tenant(backend.options)]}


def add_routes(r):
    r.add("GET", "/metadata/endpoints", metadata, public=True)
    r.add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", openid_configuration, public=True)
    r.add("POST", "/{tenant}/oauth2/v2.0/token", token, public=True)
    r.add("GET", "/subscriptions", subscriptions)
    r.add("GET", "/subscriptions/{sub}", subscription)
    r.add("GET", "/tenants", tenants)
