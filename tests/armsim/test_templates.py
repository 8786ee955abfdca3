# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The template engine in-process (no server, no az): the expression language, validation, and a deployment of
the template `az vmss create` sent in a real recording, run on a clock the test drives."""
import json
import os

import pytest
import yaml

from armsim import templates
from armsim.backend import Backend, Options
from armsim.errors import ArmError
from armsim.ids import ResourceId
from armsim.models import deployments, resources, scalesets, vms
import conformance_replay

# the project's reference material, next to the checkout (or next to the worktrees' directory)
RECORDINGS = next((p for p in (conformance_replay.RECORDINGS, os.path.join(
    conformance_replay.ROOT, "..", "..", "shared", "reference", "azure-recordings")) if os.path.isdir(p)), None)
SUB = "00000000-0000-0000-0000-000000000000"


class Scope:
    subscription_id, group_name = SUB, "rg"

    def parameter(self, name):
        return {"vmName": "web", "count": 3}[name]

    def variable(self, name):
        return {"prefix": "pre"}[name]

    def provider(self, namespace, type_):
        return {"apiVersions": ["2024-11-01", "2024-07-01"]}

    def resource_group(self):
        return {"location": "eastus", "id": "/subscriptions/{}/resourceGroups/rg".format(SUB)}


@pytest.mark.parametrize("text,value", [
    ("[concat(variables('prefix'), '-', parameters('vmName'))]", "pre-web"),
    ("[format('{0}-{1}', parameters('vmName'), parameters('count'))]", "web-3"),
    ("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
     "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s".format(SUB)),
    ("[resourceId('other', 'Microsoft.Network/publicIPAddresses', 'p')]",
     "/subscriptions/{}/resourceGroups/other/providers/Microsoft.Network/publicIPAddresses/p".format(SUB)),
    ("[providers('Microsoft.Compute', 'virtualMachineScaleSets').apiVersions[0]]", "2024-11-01"),
    ("[if(equals(parameters('count'), 3), 'three', 'other')]", "three"),
    ("[toLower(substring(concat(parameters('vmName'), 'XYZ'), 0, 5))]", "webxy"),
    ("[length(uniqueString(resourceGroup().id))]", 13),
    ("[createArray(1, 2)[1]]", 2),
    ("[json('{\"a\": {\"b\": [5]}}').a.b[0]]", 5),
    ("[[not an expression]", "[not an expression]"),
    ("['it''s']", "it's"),
])
def test_d3_expressions(text, value):
    assert templates.evaluate(text, Scope()) == value


@pytest.mark.parametrize("text,message", [
    ("[pickZones('Microsoft.Compute', 'virtualMachines', 'eastus')]", "'pickZones'"),
    ("[concat('a', ]", "is not valid"),
    ("[parameters('vmName')", None),  # not an expression at all: a literal string
])
def test_d3_unsupported_or_broken_expressions_are_named(text, message):
    if message is None:
        templates.check(text, "x")
        return
    with pytest.raises(templates.TemplateError, match=message):
        templates.check(text, "resources[0].name")


def test_d3_output_names_are_camel_cased_as_arm_answers():
    assert [deployments._camel(n) for n in ("VMSS", "VMSSName", "vmName", "Vm", "URLValue")] == \
        ["vmss", "vmssName", "vmName", "vm", "urlValue"]


@pytest.fixture()
def backend():
    clock = [1_800_000_000.0]
    b = Backend(Options(subscription_id=SUB, lro_seconds=2))
    b.now = lambda: clock[0]
    b.advance = lambda seconds: (clock.__setitem__(0, clock[0] + seconds), b.tick())
    return b


def run_to_end(backend, op, limit=20):
    """Advance the clock a second at a time until the operation ends; its final status."""
    for _ in range(limit):
        if backend.operations[op["name"]]["status"] != "InProgress":
            break
        backend.advance(1)
    return backend.operations[op["name"]]["status"]


def recorded_template(name, index):
    with open(os.path.join(RECORDINGS, name)) as f:
        interaction = yaml.safe_load(f)["interactions"][index]
    return json.loads(interaction["request"]["body"])


@pytest.mark.skipif(RECORDINGS is None, reason="reference recordings not found")
def test_d2_recorded_vmss_create_template_deploys_in_order(backend):
    """The deployment `az vmss create -n vmss000002 -g ... --image Ubuntu2204` sent (wire #5), deployed in-process."""
    group = "cli_test_create_flexible_vmss_by_default000001"
    resources.put_group(backend, SUB, group, {"location": "eastus"})
    rid = ResourceId(SUB, group, "Microsoft.Resources", ["deployments"], ["mock-deployment"])
    dep, created, op = deployments.put_deployment(backend, rid, recorded_template(
        "test_create_flexible_vmss_by_default.yaml", 5))
    assert created and op["status"] == "InProgress" and dep.props["provisioningState"] == "Accepted"
    assert [d["resourceName"] for d in dep.props["dependencies"]] == [
        "vmss000002LB", "vmss000002LB/NatRule", "vmss000002"]
    assert run_to_end(backend, op) == "Succeeded"
    assert dep.props["provisioningState"] == "Succeeded"
    # the order dependsOn asks: the network first, the NAT rule after its load balancer, the scale set last
    order = [o["properties"]["targetResource"]["resourceName"] for o in deployments.operations(backend, dep)]
    assert order.index("vmss000002VNET") < order.index("vmss000002LB") < order.index("vmss000002LB/NatRule")
    assert order[-1] == "vmss000002"
    vmss = scalesets.get(backend, ResourceId(SUB, group, "Microsoft.Compute", ["virtualMachineScaleSets"],
                                             ["vmss000002"]))
    assert vmss.props["orchestrationMode"] == "Flexible" and len(vms.members(backend, str(vmss.id))) == 2
    output = dep.props["outputs"]["vmss"]
    assert output["type"] == "Object" and output["value"]["orchestrationMode"] == "Flexible"
    lb = backend.get(ResourceId(SUB, group, "Microsoft.Network", ["loadBalancers"], ["vmss000002LB"]))
    assert [r["name"] for r in lb.props["inboundNatRules"]] == ["NatRule"]
    assert lb.props["frontendIPConfigurations"][0]["id"].endswith("/frontendIPConfigurations/loadBalancerFrontEnd")


def test_d1_validation_fails_before_anything_is_created(backend):
    resources.put_group(backend, SUB, "rg", {"location": "eastus"})
    rid = ResourceId(SUB, "rg", "Microsoft.Resources", ["deployments"], ["d"])
    nsg = {"type": "Microsoft.Network/networkSecurityGroups", "name": "n", "apiVersion": "2022-01-01",
           "location": "eastus", "properties": {}}
    cases = [
        ({"parameters": {"size": {"type": "string"}}, "resources": [nsg]}, "parameter 'size' is not provided"),
        ({"parameters": {"n": {"type": "int", "defaultValue": "x"}}, "resources": [nsg]}, "Expected a value of type"),
        ({"resources": [dict(nsg, copy={"name": "c", "count": 2})]}, "uses 'copy'"),
        ({"resources": [nsg, dict(nsg, name="m", dependsOn=["x"])]}, "'x' is not defined in the template"),
        ({"resources": [dict(nsg, dependsOn=["m"]), dict(nsg, name="m", dependsOn=["n"])]}, "Circular dependency"),
        ({"resources": [dict(nsg, type="Microsoft.Web/sites")]}, "'Microsoft.Web/sites'"),
    ]
    for template, message in cases:
        with pytest.raises(ArmError, match=message) as raised:
            deployments.put_deployment(backend, rid, {"properties": {"mode": "Incremental", "template": template}})
        assert raised.value.code == "InvalidTemplate"
    assert backend.get(rid) is None and backend.of_type("Microsoft.Network/networkSecurityGroups") == []


def test_d2_a_failing_resource_fails_the_deployment_with_its_error(backend):
    resources.put_group(backend, SUB, "rg", {"location": "eastus"})
    rid = ResourceId(SUB, "rg", "Microsoft.Resources", ["deployments"], ["d"])
    vm = {"type": "Microsoft.Compute/virtualMachines", "name": "vm", "apiVersion": "2024-07-01",
          "location": "eastus", "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v3"},
                                               "capacityReservation": {"capacityReservationGroup": {"id": "crg"}}}}
    dep, _, op = deployments.put_deployment(backend, rid, {"properties": {"template": {"resources": [vm]}}})
    backend.advance(2)  # the deployment's first step runs after --lro-seconds
    status = backend.operations[op["name"]]
    assert status["status"] == "Failed" and status["error"]["code"] == "DeploymentFailed"
    assert status["error"]["details"][0]["code"] == "LinkedInvalidPropertyId"
    assert dep.props["provisioningState"] == "Failed"
    entry = deployments.operations(backend, dep)[-1]["properties"]
    assert entry["provisioningState"] == "Failed" and entry["targetResource"]["resourceName"] == "vm"


def test_d2_request_bodies_are_read_as_arm_reads_them():
    """az deployment group create sends `..., template:{...}}`; templates may hold comments and trailing commas."""
    from armsim import jsonc
    body = '{"properties": {"mode": "Incremental"}, template:{"resources": [1, 2,], // note\n "a": "x,]" /* b */}}'
    assert jsonc.loads(body) == {"properties": {"mode": "Incremental"}, "template": {"resources": [1, 2], "a": "x,]"}}
    with pytest.raises(ValueError):
        jsonc.loads('{"a": }')


def test_d2_reference_is_an_implicit_dependency(backend):
    """A NIC listed first that reads its subnet through reference() waits for the virtual network, as in ARM."""
    resources.put_group(backend, SUB, "rg", {"location": "eastus"})
    nic = {"type": "Microsoft.Network/networkInterfaces", "name": "nic", "apiVersion": "2022-01-01",
           "location": "eastus", "properties": {"ipConfigurations": [{"name": "ip", "properties": {
               "subnet": {"id": "[reference('vnet').subnets[0].id]"}}}]}}
    subnet = {"name": "s", "properties": {"addressPrefix": "10.3.7.0/24"}}
    vnet = {"type": "Microsoft.Network/virtualNetworks", "name": "vnet", "apiVersion": "2022-01-01",
            "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.3.0.0/16"]},
                                                 "subnets": [subnet]}}
    rid = ResourceId(SUB, "rg", "Microsoft.Resources", ["deployments"], ["d"])
    dep, _, op = deployments.put_deployment(backend, rid, {"properties": {"template": {"resources": [nic, vnet]}}})
    assert run_to_end(backend, op) == "Succeeded"
    order = [o["properties"]["targetResource"]["resourceName"] for o in deployments.operations(backend, dep)]
    assert order == ["vnet", "nic"]
    made = backend.get(ResourceId(SUB, "rg", "Microsoft.Network", ["networkInterfaces"], ["nic"]))
    assert made.props["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.3.7.4"


def test_d2_a_template_group_reservation_and_vm_follow_the_capacity_rules(backend):
    """A template that makes a group, a reservation and a VM in it: the VM consumes the reservation (P2), and a
    second VM of another size is refused by rule A8, failing the deployment with that error."""
    from armsim.models import capacity
    resources.put_group(backend, SUB, "rg", {"location": "eastus"})
    crg_id = "[resourceId('Microsoft.Compute/capacityReservationGroups', 'crg')]"
    template = {"resources": [
        {"type": "Microsoft.Compute/capacityReservationGroups", "name": "crg", "apiVersion": "2024-11-01",
         "location": "eastus"},
        {"type": "Microsoft.Compute/capacityReservationGroups/capacityReservations", "name": "crg/r",
         "apiVersion": "2024-11-01", "location": "eastus", "sku": {"name": "Standard_D2s_v3", "capacity": 1},
         "dependsOn": [crg_id]},
        {"type": "Microsoft.Compute/virtualMachines", "name": "vm", "apiVersion": "2024-11-01", "location": "eastus",
         "dependsOn": ["Microsoft.Compute/capacityReservationGroups/crg/capacityReservations/r"],
         "properties": {"hardwareProfile": {"vmSize": "[parameters('size')]"},
                        "capacityReservation": {"capacityReservationGroup": {"id": crg_id}}}}],
        "parameters": {"size": {"type": "string", "defaultValue": "Standard_D2s_v3"}}}
    rid = ResourceId(SUB, "rg", "Microsoft.Resources", ["deployments"], ["d"])
    _, _, op = deployments.put_deployment(backend, rid, {"properties": {"template": template}})
    assert run_to_end(backend, op) == "Succeeded", backend.operations[op["name"]]
    types = ["capacityReservationGroups", "capacityReservations"]
    reservation = backend.get(ResourceId(SUB, "rg", "Microsoft.Compute", types, ["crg", "r"]))
    allocated = capacity.utilization(backend, reservation)["virtualMachinesAllocated"]
    assert [a["id"].rsplit("/", 1)[-1] for a in allocated] == ["vm"]
    template["resources"][2]["name"] = "vm2"
    rid2 = ResourceId(SUB, "rg", "Microsoft.Resources", ["deployments"], ["d2"])
    _, _, op = deployments.put_deployment(backend, rid2, {"properties": {
        "template": template, "parameters": {"size": {"value": "Standard_D4s_v3"}}}})
    assert run_to_end(backend, op) == "Failed"
    error = backend.operations[op["name"]]["error"]["details"][0]
    assert error["code"] == "InvalidParameter" and "Standard_D4s_v3" in error["message"]
    assert backend.get(ResourceId(SUB, "rg", "Microsoft.Compute", ["virtualMachines"], ["vm2"])) is None
