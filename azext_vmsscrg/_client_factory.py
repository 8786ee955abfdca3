# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
import functools


def cf_compute(cli_ctx, *_):
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType
    return OperationGroups(get_mgmt_service_client(cli_ctx, ResourceType.MGMT_COMPUTE, **_client_options()))


def cf_compute_for_subscription(cli_ctx, subscription_id):
    """A compute client for another subscription, signed in as the command is: a capacity reservation group
    shared with the command's subscription lives in a subscription that `az account list` may not show."""
    from azure.cli.core._profile import Profile
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType
    credential, _, _ = Profile(cli_ctx=cli_ctx).get_login_credentials(
        subscription_id=cli_ctx.data.get('subscription_id'))
    return OperationGroups(get_mgmt_service_client(cli_ctx, ResourceType.MGMT_COMPUTE, subscription_id=subscription_id,
                                                   credential=credential, **_client_options()))


def cf_autoscale(cli_ctx):
    """Autoscale settings (Microsoft.Insights), through the monitor SDK that ships with azure-cli."""
    from azure.cli.core.commands.client_factory import get_mgmt_service_client
    from azure.cli.core.profiles import ResourceType
    return get_mgmt_service_client(cli_ctx, ResourceType.MGMT_MONITOR).autoscale_settings


class OperationGroups:  # pylint: disable=too-few-public-methods
    """The compute client, with each operation group made once. The multi-API client makes a new one on every
    access (`client.virtual_machines`), with a serializer and a deserializer over every model of its API
    version: about a millisecond each time, as much as the request it is used for."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        value = getattr(self._client, name)
        setattr(self, name, value)
        return value


def _client_options():
    """The executor runs up to MAX_CONCURRENCY requests at once through one client. The SDK's default session
    keeps 10 connections per host and closes every other one after its request, so each request beyond ten
    would pay a new TLS handshake: keep as many connections as requests can be in flight. And when Azure
    throttles, every thread waits for the Retry-After (_throttle.py)."""
    from ._throttle import ThrottleGate
    from ._validators import MAX_CONCURRENCY
    return {'session': _session(MAX_CONCURRENCY), 'per_retry_policies': [ThrottleGate(gates=_gates())]}


@functools.lru_cache(maxsize=None)
def _gates():
    """ARM's buckets as this command's clients see them: one set for the process."""
    from ._throttle import Gates
    return Gates()


def _session(pool_size):
    """A requests session as azure-core's RequestsTransport makes its own (environment settings honoured, no
    retries below the SDK's retry policy), with a connection pool of `pool_size`."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
    session = requests.Session()
    adapter = HTTPAdapter(pool_maxsize=pool_size,
                          max_retries=Retry(total=False, redirect=False, raise_on_status=False))
    for prefix in ('http://', 'https://'):
        session.mount(prefix, adapter)
    return session
