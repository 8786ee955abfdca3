# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The route table: specific providers first, opaque storage for other providers last."""
from .responses import capacity, catalog, deployments, identity, operations, resources, scalesets, simulator, vms
from .routes import Routes


def build(app):
    r = Routes()
    simulator.add_routes(r, app)
    identity.add_routes(r)
    operations.add_routes(r)
    resources.add_routes(r)
    capacity.add_routes(r)
    scalesets.add_routes(r)
    vms.add_routes(r)
    catalog.add_routes(r)
    deployments.add_routes(r)
    resources.add_generic_routes(r)
    return r
