# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""HTTP for what a region offers: the resource SKU list, VM sizes, and marketplace image look-ups."""
from ..models import catalog

IMAGES = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/publishers"


def list_skus(backend, req, sub):
    """One page, as Azure answers it."""
    return {"value": catalog.resource_skus(catalog.parse_sku_filter(req.query.get("$filter")))}


def list_sizes(backend, req, sub, location):
    return {"value": catalog.vm_sizes(location)}


def publishers(backend, req, sub, location):
    return catalog.publishers(sub, location)


def offers(backend, req, sub, location, publisher):
    return catalog.offers(sub, location, publisher)


def skus(backend, req, sub, location, publisher, offer):
    return catalog.skus(sub, location, publisher, offer)


def versions(backend, req, sub, location, publisher, offer, sku):
    return catalog.versions(sub, location, publisher, offer, sku, req.query.get("$top"), req.query.get("$orderby"))


def version(backend, req, sub, location, publisher, offer, sku, name):
    return catalog.version(sub, location, publisher, offer, sku, name)


def add_routes(r):
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/skus", list_skus)
    r.add("GET", "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/vmSizes", list_sizes)
    r.add("GET", IMAGES, publishers)
    offers_path = IMAGES + "/{publisher}/artifacttypes/vmimage/offers"
    r.add("GET", offers_path, offers)
    r.add("GET", offers_path + "/{offer}/skus", skus)
    r.add("GET", offers_path + "/{offer}/skus/{sku}/versions", versions)
    r.add("GET", offers_path + "/{offer}/skus/{sku}/versions/{name}", version)
