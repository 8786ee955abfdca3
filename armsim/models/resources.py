# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Subscriptions, resource groups, and opaque storage for resources of providers armsim does not model."""
import copy

from ..backend import event
from ..errors import ResourceGroupNotFound, GROUP_NOT_FOUND_MSG, InvalidParameter, not_found
from ..ids import ResourceId
from .common import bump_etag, guid, new_resource

GROUP_TYPE = "Microsoft.Resources/resourceGroups"


def subscription(options):
    return {"id": "/subscriptions/" + options.subscription_id, "authorizationSource": "RoleBased",
            "managedByTenants": [], "subscriptionId": options.subscription_id, "tenantId": options.tenant_id,
            "displayName": "armsim", "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"}}


def tenant(options):
    return {"id": "/tenants/" + options.tenant_id, "tenantId": options.tenant_id, "countryCode": "US",
            "displayName": "armsim", "domains": ["armsim.local"], "tenantCategory": "Home", "tenantType": "AAD",
            "defaultDomain": "armsim.local"}


# --- resource groups ---------------------------------------------------------------------
def put_group(backend, sub, name, body):
    rid = ResourceId(sub, name)
    existing = backend.get(rid)
    location = (body or {}).get("location")
    if existing is None and not location:
        raise InvalidParameter("The 'location' property is required for a resource group.")
    if existing is not None:
        existing.body["tags"] = body.get("tags", existing.body.get("tags"))
        return existing, False
    res = new_resource(rid, {"tags": body.get("tags") or {}, "properties": {"provisioningState": "Succeeded"}},
                       location)
    if body.get("managedBy"):
        res.body["managedBy"] = body["managedBy"]
    return backend.put(res), True


def get_group(backend, sub, name):
    res = backend.get(ResourceId(sub, name))
    if res is None:
        raise ResourceGroupNotFound(GROUP_NOT_FOUND_MSG.format(group=name))
    return res


def list_groups(backend, sub):
    return backend.of_type(GROUP_TYPE, sub=sub)


def delete_group(backend, sub, name):
    res = get_group(backend, sub, name)
    res.props["provisioningState"] = "Deleting"
    return backend.begin(res.body["location"], "group_deleted", group_id=str(res.id))


@event("group_deleted")
def _group_deleted(backend, group_id):
    res = backend.get(group_id)
    if res is not None:
        backend.remove(res)


# --- other providers: opaque storage -------------------------------------------------------
def put_generic(backend, rid, body):
    """Store a resource as sent, with ARM's managed fields, ids for named children, and Succeeded."""
    existing = backend.get(rid)
    body = copy.deepcopy(body or {})
    location = body.get("location") or (existing.body.get("location") if existing else None)
    if not location:
        group = backend.get(rid.group_id)
        location = group.body["location"]
    res = new_resource(rid, body, location, existing.state if existing else {})
    props = res.props
    props["provisioningState"] = "Succeeded"
    props.setdefault("resourceGuid", existing.props.get("resourceGuid") if existing else guid())
    _name_children(str(rid), props)
    bump_etag(res)
    backend.put(res)
    return res, existing is None


def _name_children(parent_id, props):
    """Give each named child object (subnets, ipConfigurations, ...) its id, as ARM does."""
    for key, value in props.items():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and item.get("name"):
                    item.setdefault("id", "{}/{}/{}".format(parent_id, key, item["name"]))
                    item.setdefault("properties", {}).setdefault("provisioningState", "Succeeded")
                    _name_children(item["id"], item["properties"])


def get_generic(backend, rid):
    res = backend.get(rid)
    if res is not None:
        return res.body
    parent = backend.get(rid.parent) if rid.parent and len(rid.types) > 1 else None
    if parent is not None:  # a child kept inside its parent's body, e.g. a subnet of a virtual network
        for item in parent.props.get(rid.types[-1], []) or []:
            if isinstance(item, dict) and item.get("name", "").lower() == rid.name.lower():
                return dict(item, type=rid.full_type)
    raise not_found(rid)


def delete_generic(backend, rid):
    res = backend.get(rid)
    if res is not None:
        backend.remove(res)
    return res is not None


def list_generic(backend, sub, group, namespace, type_):
    full = "{}/{}".format(namespace, type_)
    return backend.of_type(full, sub=sub, group=group)
