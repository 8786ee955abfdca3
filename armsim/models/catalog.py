# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What a region offers: locations and their zones, VM sizes (the resource SKU list) and marketplace images.

Tables, not code: add a row to offer more. Shapes follow Compute's ResourceSkus list and VirtualMachineImages
answers (wire: test_create_flexible_vmss_by_default #2-#3; REST: ResourceSkus_List examples).
"""
from ..errors import InvalidParameter, NotFound
from .common import normalize_location

# location: its logical zones (none: a region without availability zones)
LOCATIONS = {
    "eastus": ("1", "2", "3"), "eastus2": ("1", "2", "3"), "centralus": ("1", "2", "3"),
    "southcentralus": ("1", "2", "3"), "westus": (), "westus2": ("1", "2", "3"), "westus3": ("1", "2", "3"),
    "northeurope": ("1", "2", "3"), "westeurope": ("1", "2", "3"), "uksouth": ("1", "2", "3"),
    "francecentral": ("1", "2", "3"), "southafricanorth": ("1", "2", "3"), "japaneast": ("1", "2", "3"),
    "centraluseuap": ("1", "2"), "eastus2euap": ("1", "2", "3"),
}

# name, family, vCPUs, memory GB, max data disks, max NICs, premium storage, Hyper-V generations
SIZES = [
    ("Standard_B1s", "standardBSFamily", 1, 1, 2, 2, True, "V1,V2"),
    ("Standard_B1ms", "standardBSFamily", 1, 2, 2, 2, True, "V1,V2"),
    ("Standard_B2s", "standardBSFamily", 2, 4, 4, 3, True, "V1,V2"),
    ("Standard_A1_v2", "standardAv2Family", 1, 2, 2, 2, False, "V1"),
    ("Standard_A2_v2", "standardAv2Family", 2, 4, 4, 2, False, "V1"),
    ("Standard_D1_v2", "standardDv2Family", 1, 3.5, 4, 2, False, "V1"),
    ("Standard_D2_v2", "standardDv2Family", 2, 7, 8, 2, False, "V1"),
    ("Standard_DS1_v2", "standardDSv2Family", 1, 3.5, 4, 2, True, "V1,V2"),
    ("Standard_DS2_v2", "standardDSv2Family", 2, 7, 8, 2, True, "V1,V2"),
    ("Standard_D2_v3", "standardDv3Family", 2, 8, 4, 2, False, "V1"),
    ("Standard_D4_v3", "standardDv3Family", 4, 16, 8, 2, False, "V1"),
    ("Standard_D2s_v3", "standardDSv3Family", 2, 8, 4, 2, True, "V1,V2"),
    ("Standard_D4s_v3", "standardDSv3Family", 4, 16, 8, 2, True, "V1,V2"),
    ("Standard_D8s_v3", "standardDSv3Family", 8, 32, 16, 4, True, "V1,V2"),
    ("Standard_D16s_v3", "standardDSv3Family", 16, 64, 32, 8, True, "V1,V2"),
    ("Standard_D2s_v5", "standardDSv5Family", 2, 8, 4, 2, True, "V1,V2"),
    ("Standard_D4s_v5", "standardDSv5Family", 4, 16, 8, 2, True, "V1,V2"),
    ("Standard_D8s_v5", "standardDSv5Family", 8, 32, 16, 4, True, "V1,V2"),
    ("Standard_D2ds_v5", "standardDDSv5Family", 2, 8, 4, 2, True, "V1,V2"),
    ("Standard_D2as_v5", "standardDASv5Family", 2, 8, 4, 2, True, "V1,V2"),
    ("Standard_E2s_v3", "standardESv3Family", 2, 16, 4, 2, True, "V1,V2"),
    ("Standard_E4s_v3", "standardESv3Family", 4, 32, 8, 2, True, "V1,V2"),
    ("Standard_E2s_v5", "standardESv5Family", 2, 16, 4, 2, True, "V1,V2"),
    ("Standard_E4s_v5", "standardESv5Family", 4, 32, 8, 2, True, "V1,V2"),
    ("Standard_F2", "standardFFamily", 2, 4, 8, 2, False, "V1"),
    ("Standard_F2s_v2", "standardFSv2Family", 2, 4, 4, 2, True, "V1,V2"),
    ("Standard_F4s_v2", "standardFSv2Family", 4, 8, 8, 2, True, "V1,V2"),
]

# publisher, offer, sku, OS, Hyper-V generation, OS disk GB, versions (oldest first)
IMAGES = [
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "Linux", "V2", 30,
     ("22.04.202407160", "22.04.202408010")),
    ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", "Linux", "V1", 30, ("22.04.202408010",)),
    ("Canonical", "ubuntu-24_04-lts", "server", "Linux", "V2", 30, ("24.04.202408010", "24.04.202409120")),
    ("Canonical", "ubuntu-24_04-lts", "server-gen1", "Linux", "V1", 30, ("24.04.202409120",)),
    ("Canonical", "0001-com-ubuntu-server-focal", "20_04-lts-gen2", "Linux", "V2", 30, ("20.04.202408010",)),
    ("Canonical", "UbuntuServer", "18.04-LTS", "Linux", "V1", 30, ("18.04.202401161",)),
    ("Debian", "debian-11", "11-backports-gen2", "Linux", "V2", 30, ("0.20240812.1837",)),
    ("Debian", "debian-12", "12-gen2", "Linux", "V2", 30, ("0.20240812.1837",)),
    ("OpenLogic", "CentOS", "8_5-gen2", "Linux", "V2", 30, ("8.5.2022101401",)),
    ("RedHat", "RHEL", "8-lvm-gen2", "Linux", "V2", 64, ("8.10.2024072409",)),
    ("SUSE", "sles-15-sp3", "gen2", "Linux", "V2", 30, ("2024.08.01",)),
    ("SUSE", "openSUSE-leap-15-4", "gen2", "Linux", "V2", 30, ("2024.08.01",)),
    ("kinvolk", "flatcar-container-linux-free", "stable-gen2", "Linux", "V2", 30, ("3815.2.5",)),
    ("microsoftazurelinux", "azurelinux-4", "4", "Linux", "V2", 30, ("4.0.20250901",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2", "Windows", "V2", 127,
     ("20348.2582.240703",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition", "Windows", "V2", 127,
     ("20348.2582.240703",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition-core", "Windows", "V2", 127,
     ("20348.2582.240703",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond", "Windows", "V2", 127,
     ("17763.6054.240703",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2016-datacenter-gensecond", "Windows", "V2", 127,
     ("14393.7159.240703",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter", "Windows", "V1", 127, ("9600.21620.231004",)),
    ("MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter", "Windows", "V1", 127, ("9200.24520.231004",)),
]


def _capabilities(size):
    name, family, vcpus, memory, disks, nics, premium, generations = size
    return [
        {"name": "MaxResourceVolumeMB", "value": str(vcpus * 8192 if premium else vcpus * 16384)},
        {"name": "OSVhdSizeMB", "value": "1047552"},
        {"name": "vCPUs", "value": str(vcpus)},
        {"name": "MemoryPreservingMaintenanceSupported", "value": "True"},
        {"name": "HyperVGenerations", "value": generations},
        {"name": "MemoryGB", "value": "{:g}".format(memory)},
        {"name": "MaxDataDiskCount", "value": str(disks)},
        {"name": "CpuArchitectureType", "value": "x64"},
        {"name": "LowPriorityCapable", "value": "True"},
        {"name": "PremiumIO", "value": str(premium)},
        {"name": "VMDeploymentTypes", "value": "IaaS"},
        {"name": "vCPUsAvailable", "value": str(vcpus)},
        {"name": "vCPUsPerCore", "value": "1" if vcpus == 1 else "2"},
        {"name": "EphemeralOSDiskSupported", "value": str(premium)},
        {"name": "EncryptionAtHostSupported", "value": str(premium)},
        {"name": "CapacityReservationSupported", "value": "True"},
        {"name": "AcceleratedNetworkingEnabled", "value": str(vcpus >= 2)},
        {"name": "RdmaEnabled", "value": "False"},
        {"name": "MaxNetworkInterfaces", "value": str(nics)},
    ]


def _size_name(name):
    """"Standard_D2s_v3" -> ("Standard", "D2s_v3")."""
    tier, _, size = name.partition("_")
    return tier, size


def resource_skus(location=None):
    """The virtualMachines entries of the resource SKU list, one per size and location."""
    out = []
    for size in SIZES:
        tier, short = _size_name(size[0])
        for loc, zones in sorted(LOCATIONS.items()):
            if location and loc != location:
                continue
            info = {"location": loc, "zones": list(zones), "zoneDetails": []}
            if zones:
                info["zoneDetails"] = [{"name": list(zones),
                                        "capabilities": [{"name": "UltraSSDAvailable", "value": "True"}]}]
            out.append({"resourceType": "virtualMachines", "name": size[0], "tier": tier, "size": short,
                        "family": size[1], "locations": [loc], "locationInfo": [info],
                        "capabilities": _capabilities(size), "restrictions": []})
    return out


def parse_sku_filter(text):
    """The location in `location eq 'eastus'`, the only filter the SKU list takes; None for no filter."""
    import re
    if not text:
        return None
    m = re.match(r"^\s*location\s+eq\s+'([^']*)'\s*$", text, re.IGNORECASE)
    if not m:
        raise InvalidParameter("The filter '{}' is not supported. Supported: location eq '<location>'.".format(text),
                               target="$filter")
    return normalize_location(m.group(1))


def size(name):
    """The size row for a VM size name (case-insensitive), or None."""
    return next((s for s in SIZES if s[0].lower() == (name or "").lower()), None)


def zones(location):
    return LOCATIONS.get(normalize_location(location), ())


def vm_sizes(location):
    """The `vmSizes` list of a location (az vm list-sizes)."""
    _require_location(location)
    return [{"name": s[0], "numberOfCores": s[2], "osDiskSizeInMB": 1047552,
             "resourceDiskSizeInMB": s[2] * (8192 if s[6] else 16384), "memoryInMB": int(s[3] * 1024),
             "maxDataDiskCount": s[4]} for s in SIZES]


# --- images ------------------------------------------------------------------------------------
def _require_location(location):
    loc = normalize_location(location)
    if loc not in LOCATIONS:
        raise NotFound("No location '{}' is known. Known: {}.".format(location, ", ".join(sorted(LOCATIONS))))
    return loc


def _image_base(location, publisher, offer=None, sku=None):
    path = "/Subscriptions/{{sub}}/Providers/Microsoft.Compute/Locations/{}/Publishers/{}".format(location, publisher)
    if offer:
        path += "/ArtifactTypes/VMImage/Offers/{}".format(offer)
    if sku:
        path += "/Skus/{}".format(sku)
    return path


def _matching(publisher=None, offer=None, sku=None):
    def same(a, b):
        return b is None or a.lower() == b.lower()
    return [i for i in IMAGES if same(i[0], publisher) and same(i[1], offer) and same(i[2], sku)]


def _image_not_found(publisher, offer, sku, version=None):
    what = "/".join(p for p in (publisher, offer, sku, version) if p)
    return NotFound("Artifact: VMImage was not found. Image '{}' is not in armsim's image table.".format(what))


def publishers(sub, location):
    loc = _require_location(location)
    names = sorted({i[0] for i in IMAGES})
    return [{"location": loc, "name": n, "id": _image_base(loc, n).format(sub=sub)} for n in names]


def offers(sub, location, publisher):
    loc = _require_location(location)
    names = sorted({i[1] for i in _matching(publisher)})
    if not names:
        raise _image_not_found(publisher, None, None)
    return [{"location": loc, "name": n, "id": _image_base(loc, publisher, n).format(sub=sub)} for n in names]


def skus(sub, location, publisher, offer):
    loc = _require_location(location)
    rows = _matching(publisher, offer)
    if not rows:
        raise _image_not_found(publisher, offer, None)
    return [{"location": loc, "name": r[2], "id": _image_base(loc, r[0], r[1], r[2]).format(sub=sub)}
            for r in rows]


def versions(sub, location, publisher, offer, sku, top=None, orderby=None):
    """Version entries of one image sku; `$orderby=name desc` and `$top` as az sends them."""
    loc = _require_location(location)
    rows = _matching(publisher, offer, sku)
    if not rows:
        raise _image_not_found(publisher, offer, sku)
    row = rows[0]
    names = list(row[6])
    if orderby and orderby.strip().lower() == "name desc":
        names.reverse()
    if top:
        names = names[:int(top)]
    base = _image_base(loc, row[0], row[1], row[2]).format(sub=sub)
    return [{"location": loc, "name": n, "id": "{}/Versions/{}".format(base, n)} for n in names]


def version(sub, location, publisher, offer, sku, name):
    """One image version, with the properties az reads (OS, generation, disk size, features)."""
    loc = _require_location(location)
    rows = _matching(publisher, offer, sku)
    row = rows[0] if rows else None
    if row is None:
        raise _image_not_found(publisher, offer, sku, name)
    if name.lower() == "latest":
        name = row[6][-1]
    if name not in row[6]:
        raise _image_not_found(publisher, offer, sku, name)
    base = _image_base(loc, row[0], row[1], row[2]).format(sub=sub)
    return {"properties": {
        "hyperVGeneration": row[4], "architecture": "x64", "replicaType": "Managed", "replicaCount": 10,
        "disallowed": {"vmDiskType": "Unmanaged"},
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
        "imageDeprecationStatus": {"imageState": "Active"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"},
                     {"name": "IsAcceleratedNetworkSupported", "value": "True"},
                     {"name": "DiskControllerTypes", "value": "SCSI, NVMe"}],
        "osDiskImage": {"operatingSystem": row[3], "sizeInGb": row[5]}, "dataDiskImages": []},
        "location": loc, "name": name, "id": "{}/Versions/{}".format(base, name)}


def latest_version(publisher, offer, sku):
    rows = _matching(publisher, offer, sku)
    return rows[0][6][-1] if rows else None


def image_os_disk(image):
    """(OS type, disk size GB) of a marketplace image reference, when the table has it."""
    rows = _matching(image.get("publisher"), image.get("offer"), image.get("sku")) if image.get("publisher") else []
    return (rows[0][3], rows[0][5]) if rows else (None, None)
