# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Network resources kept with what Azure fills in: ids of named children, provisioning state, resource guid,
addresses, default security rules, and the back-references (a subnet's IP configurations, a NIC's VM).

Table-driven: CHILD_LISTS says which lists hold named children of which type; CHILD_TYPES are child resources
a template may create on their own (merged into the parent, where Azure keeps them too). Shapes follow the
Network answers of azure-recordings (test_create_flexible_vmss_by_default #10, test_vm_stop_start).
"""
import copy
import ipaddress
import itertools

from ..errors import InvalidParameter, not_found
from ..ids import ResourceId, same_id
from .common import guid, new_resource

NS = "Microsoft.Network"
# full type: {list property: the type of its items}
CHILD_LISTS = {
    "Microsoft.Network/virtualNetworks": {"subnets": "subnets", "virtualNetworkPeerings": "virtualNetworkPeerings"},
    "Microsoft.Network/networkSecurityGroups": {"securityRules": "securityRules",
                                                "defaultSecurityRules": "defaultSecurityRules"},
    "Microsoft.Network/loadBalancers": {k: k for k in ("frontendIPConfigurations", "backendAddressPools",
                                                       "loadBalancingRules", "probes", "inboundNatRules",
                                                       "inboundNatPools", "outboundRules")},
    "Microsoft.Network/networkInterfaces": {"ipConfigurations": "ipConfigurations"},
    "Microsoft.Network/publicIPAddresses": {},
}
# child resource type: the list of its parent that holds it
CHILD_TYPES = {
    "Microsoft.Network/virtualNetworks/subnets": "subnets",
    "Microsoft.Network/networkSecurityGroups/securityRules": "securityRules",
    "Microsoft.Network/loadBalancers/inboundNatRules": "inboundNatRules",
    "Microsoft.Network/loadBalancers/backendAddressPools": "backendAddressPools",
}
TYPES = set(CHILD_LISTS) | set(CHILD_TYPES)

DEFAULT_RULES = [  # (name, direction, priority, access, source, destination)
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*"),
]
_public_ip = itertools.count(10)
_unknown_subnet = itertools.count(0)


def supports(full_type):
    return full_type.lower() in {t.lower() for t in TYPES}


def _canonical(full_type):
    return next(t for t in TYPES if t.lower() == full_type.lower())


def put(backend, rid, body):
    """Create or replace a network resource (or a child kept in its parent). Returns (resource, created, None)."""
    full = _canonical(rid.full_type)
    if full in CHILD_TYPES:
        return _put_child(backend, rid, CHILD_TYPES[full], body)
    existing = backend.get(rid)
    body = copy.deepcopy(body or {})
    location = body.get("location") or (existing.body["location"] if existing else
                                        backend.get(rid.group_id).body["location"])
    res = new_resource(rid, {k: v for k, v in body.items() if k not in ("id", "name", "type", "location")},
                       location, existing.state if existing else {})
    props = res.props
    props["provisioningState"] = "Succeeded"
    props["resourceGuid"] = existing.props.get("resourceGuid") if existing else guid()
    FILL[full](backend, res, existing)
    _name_children(res, full)
    res.body["etag"] = 'W/"{}"'.format(guid())
    backend.put(res)
    return res, existing is None, None


def _put_child(backend, rid, key, body):
    parent = backend.get(rid.parent)
    if parent is None:
        raise not_found(rid.parent)
    items = parent.props.setdefault(key, [])
    item = {"name": rid.name, "properties": copy.deepcopy((body or {}).get("properties") or {})}
    for n, old in enumerate(items):
        if old.get("name", "").lower() == rid.name.lower():
            items[n] = item
            break
    else:
        items.append(item)
    put(backend, parent.id, parent.body)
    return backend.get(rid.parent), True, None


def _name_children(res, full):
    etag = res.body.get("etag")
    for key, child_type in CHILD_LISTS[full].items():
        for item in res.props.get(key) or []:
            if not isinstance(item, dict) or not item.get("name"):
                continue
            item["id"] = "{}/{}/{}".format(res.id, key, item["name"])
            item["type"] = "{}/{}".format(full, child_type)
            item.setdefault("properties", {})["provisioningState"] = "Succeeded"
            if etag:
                item["etag"] = etag


# --- what Azure fills in, per type ------------------------------------------------------------------
def _vnet(backend, res, existing):
    props = res.props
    props.setdefault("enableDdosProtection", False)
    props.setdefault("virtualNetworkPeerings", [])
    old = {s["name"].lower(): s for s in (existing.props.get("subnets") or [])} if existing else {}
    for subnet in props.setdefault("subnets", []):
        sp = subnet.setdefault("properties", {})
        sp.setdefault("privateEndpointNetworkPolicies", "Disabled")
        sp.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
        sp.setdefault("delegations", [])
        previous = old.get(subnet.get("name", "").lower())
        if previous and previous.get("properties", {}).get("ipConfigurations"):
            sp.setdefault("ipConfigurations", previous["properties"]["ipConfigurations"])


def _nsg(backend, res, existing):
    props = res.props
    props.setdefault("securityRules", [])
    props["defaultSecurityRules"] = [
        {"name": name, "properties": {"description": name, "protocol": "*", "sourcePortRange": "*",
                                      "destinationPortRange": "*", "sourceAddressPrefix": source,
                                      "destinationAddressPrefix": dest, "access": access, "priority": priority,
                                      "direction": direction, "sourcePortRanges": [], "destinationPortRanges": [],
                                      "sourceAddressPrefixes": [], "destinationAddressPrefixes": []}}
        for name, direction, priority, access, source, dest in DEFAULT_RULES]
    for rule in props["securityRules"]:
        rp = rule.setdefault("properties", {})
        for key in ("sourcePortRanges", "destinationPortRanges", "sourceAddressPrefixes",
                    "destinationAddressPrefixes"):
            rp.setdefault(key, [])
    if existing:
        for key in ("networkInterfaces", "subnets"):
            if existing.props.get(key):
                props.setdefault(key, existing.props[key])


def _public_ip_address(backend, res, existing):
    props = res.props
    sku = res.body.setdefault("sku", {"name": "Standard"})
    sku.setdefault("tier", "Regional")
    props.setdefault("publicIPAllocationMethod", "Static" if sku.get("name") == "Standard" else "Dynamic")
    props.setdefault("publicIPAddressVersion", "IPv4")
    props.setdefault("idleTimeoutInMinutes", 4)
    props.setdefault("ipTags", [])
    props["ipAddress"] = existing.props.get("ipAddress") if existing and existing.props.get("ipAddress") else \
        "20.{}.{}.{}".format(120, *divmod(next(_public_ip), 250))
    if existing and existing.props.get("ipConfiguration"):
        props.setdefault("ipConfiguration", existing.props["ipConfiguration"])
    dns = props.get("dnsSettings")
    if isinstance(dns, dict) and dns.get("domainNameLabel"):
        dns.setdefault("fqdn", "{}.{}.cloudapp.azure.com".format(dns["domainNameLabel"], res.body["location"]))


def _load_balancer(backend, res, existing):
    props = res.props
    res.body.setdefault("sku", {"name": "Basic", "tier": "Regional"}).setdefault("tier", "Regional")
    for key in CHILD_LISTS["Microsoft.Network/loadBalancers"]:
        props.setdefault(key, [])
    for front in props["frontendIPConfigurations"]:
        front.setdefault("properties", {}).setdefault("privateIPAllocationMethod", "Dynamic")
    for rule in props["loadBalancingRules"]:
        rp = rule.setdefault("properties", {})
        rp.setdefault("disableOutboundSnat", False)
        rp.setdefault("loadDistribution", "Default")
    if existing:  # the NICs and instances in a pool are facts of the pool, not of this request
        old = {p["name"].lower(): p for p in existing.props.get("backendAddressPools") or []}
        for pool in props["backendAddressPools"]:
            kept = (old.get(pool["name"].lower()) or {}).get("properties", {})
            for key in ("backendIPConfigurations", "loadBalancerBackendAddresses"):
                if kept.get(key):
                    pool.setdefault("properties", {}).setdefault(key, kept[key])


def _nic(backend, res, existing):
    props = res.props
    configs = props.get("ipConfigurations") or []
    if not configs:
        raise InvalidParameter("A network interface needs at least one IP configuration.",
                               target="properties.ipConfigurations")
    props.setdefault("enableAcceleratedNetworking", False)
    props.setdefault("enableIPForwarding", False)
    props.setdefault("disableTcpStateTracking", False)
    props.setdefault("nicType", "Standard")
    props.setdefault("hostedWorkloads", [])
    props.setdefault("tapConfigurations", [])
    props.setdefault("vnetEncryptionSupported", False)
    props.setdefault("dnsSettings", {}).setdefault("dnsServers", [])
    props["dnsSettings"].setdefault("appliedDnsServers", [])
    props["dnsSettings"].setdefault("internalDomainNameSuffix", "{}.bx.internal.cloudapp.net".format(
        guid().replace("-", "")[:26]))
    old = {c["name"].lower(): c for c in (existing.props.get("ipConfigurations") or [])} if existing else {}
    for n, config in enumerate(configs):
        cp = config.setdefault("properties", {})
        cp.setdefault("privateIPAllocationMethod", "Dynamic")
        cp.setdefault("privateIPAddressVersion", "IPv4")
        cp.setdefault("primary", n == 0)
        kept = (old.get(config.get("name", "").lower()) or {}).get("properties", {})
        ip_id = "{}/ipConfigurations/{}".format(res.id, config.get("name"))
        if not cp.get("privateIPAddress"):
            cp["privateIPAddress"] = kept.get("privateIPAddress") or _next_address(backend, cp.get("subnet"))
        _link(backend, (cp.get("subnet") or {}).get("id"), "ipConfigurations", ip_id)
        public = (cp.get("publicIPAddress") or {}).get("id")
        if public:
            pip = backend.get(ResourceId.parse(public) or public)
            if pip is not None:
                pip.props["ipConfiguration"] = {"id": ip_id}
    nsg = (props.get("networkSecurityGroup") or {}).get("id")
    if nsg:
        _link(backend, nsg, "networkInterfaces", str(res.id))
    if existing:
        for key in ("virtualMachine", "macAddress", "primary"):
            if key in existing.props:
                props.setdefault(key, existing.props[key])


def _next_address(backend, subnet):
    """The next free address of a subnet (Azure keeps the first four)."""
    sub = _find(backend, (subnet or {}).get("id"))
    if sub is None:  # a subnet armsim does not hold: distinct addresses all the same
        n = next(_unknown_subnet)
        return "10.0.{}.{}".format(n // 250, n % 250 + 4)
    prefix = sub.get("properties", {}).get("addressPrefix") or "10.0.0.0/24"
    used = len(sub.get("properties", {}).get("ipConfigurations") or [])
    network = ipaddress.ip_network(prefix, strict=False)
    return str(network.network_address + 4 + used)


def _find(backend, item_id):
    """A resource's body, or a named child object inside its parent's body, by id."""
    rid = ResourceId.parse(item_id or "")
    if rid is None:
        return None
    res = backend.get(rid)
    if res is not None:
        return res.body
    parent = backend.get(rid.parent) if len(rid.types) > 1 else None
    if parent is None:
        return None
    for item in parent.props.get(rid.types[-1]) or []:
        if isinstance(item, dict) and item.get("name", "").lower() == rid.name.lower():
            return item
    return None


def _link(backend, target_id, key, ref_id):
    """Add {id: ref_id} to the `key` list of the object `target_id` names (a back-reference Azure keeps)."""
    target = _find(backend, target_id)
    if target is None:
        return
    refs = target.setdefault("properties", {}).setdefault(key, [])
    if not any(same_id(r.get("id"), ref_id) for r in refs):
        refs.append({"id": ref_id})


def attach(backend, vm):
    """A VM's network interfaces learn their VM, MAC address and primary flag when it is created."""
    for n, ref in enumerate((vm.props.get("networkProfile") or {}).get("networkInterfaces") or []):
        nic = backend.get(ResourceId.parse(ref.get("id") or "") or ref.get("id", ""))
        if nic is None or nic.type.lower() != "microsoft.network/networkinterfaces":
            continue
        nic.props["virtualMachine"] = {"id": str(vm.id)}
        nic.props.setdefault("macAddress", "00-22-48-{:02X}-{:02X}-{:02X}".format(*bytes.fromhex(guid()[:6])))
        nic.props["primary"] = (ref.get("properties") or {}).get("primary", n == 0)


def delete(backend, res):
    """Remove a network resource and the back-references other resources keep to it."""
    if res.type.lower() == "microsoft.network/networkinterfaces":
        for config in res.props.get("ipConfigurations") or []:
            cp = config.get("properties") or {}
            _unlink(backend, (cp.get("subnet") or {}).get("id"), "ipConfigurations", config.get("id"))
            pip = backend.get(ResourceId.parse((cp.get("publicIPAddress") or {}).get("id") or "") or "")
            if pip is not None:
                pip.props.pop("ipConfiguration", None)
        _unlink(backend, (res.props.get("networkSecurityGroup") or {}).get("id"), "networkInterfaces", str(res.id))
    backend.remove(res)


def _unlink(backend, target_id, key, ref_id):
    target = _find(backend, target_id)
    if target is not None:
        refs = target.get("properties", {}).get(key) or []
        refs[:] = [r for r in refs if not same_id(r.get("id"), ref_id)]


FILL = {
    "Microsoft.Network/virtualNetworks": _vnet,
    "Microsoft.Network/networkSecurityGroups": _nsg,
    "Microsoft.Network/publicIPAddresses": _public_ip_address,
    "Microsoft.Network/loadBalancers": _load_balancer,
    "Microsoft.Network/networkInterfaces": _nic,
}
