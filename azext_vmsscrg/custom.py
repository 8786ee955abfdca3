from functools import partial

from knack.log import get_logger

from ._client_factory import cf_compute_for_subscription
from .inspect import inspect_scale_set
from .status import build_status

logger = get_logger(__name__)


def show_status(cmd, client, resource_group_name, vm_scale_set_name):
    snapshot = inspect_scale_set(client, resource_group_name, vm_scale_set_name,
                                 client_for_subscription=partial(cf_compute_for_subscription, cmd.cli_ctx))
    result = build_status(snapshot)
    for reservation in result['reservations']:
        if reservation['overallocated']:
            logger.warning("Capacity reservation %s is overallocated: %s virtual machines allocated for a capacity "
                           "of %s. Azure gives the excess no capacity guarantee.",
                           reservation['name'], reservation['allocated'], reservation['capacity'])
    return result
