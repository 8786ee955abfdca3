# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Template deployments (Microsoft.Resources/deployments) in a resource group.

A PUT validates the whole template first (parameters, every expression's functions, every resource type,
dependsOn), then runs as one long-running operation: each step creates the resources whose dependencies have
succeeded, through the same model functions a direct PUT uses (so capacity reservation rules, power state,
scale-set instances and Flexible membership apply), and the deployment ends Succeeded with its outputs, or
Failed naming the resource and error. Shapes follow the deployment answers of azure-recordings
(test_create_flexible_vmss_by_default #5-#9).
"""
import copy
import hashlib
import json
import re

from ..backend import event, iso
from ..errors import ArmError, not_found
from ..ids import ResourceId
from .. import templates
from . import capacity, network, scalesets, vms
from .common import new_resource

DEPLOYMENT = "Microsoft.Resources/deployments"
# resource type: the model function that creates or updates it, (backend, rid, body) -> (resource, created, op)
HANDLERS = {
    "Microsoft.Compute/virtualMachines": vms.put_vm,
    "Microsoft.Compute/virtualMachineScaleSets": scalesets.put_vmss,
    "Microsoft.Compute/capacityReservationGroups": capacity.put_group,
    "Microsoft.Compute/capacityReservationGroups/capacityReservations": capacity.put_reservation,
}
HANDLERS.update({t: network.put for t in network.TYPES})
API_VERSIONS = {"Microsoft.Compute": ["2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01"],
                "Microsoft.Network": ["2024-05-01", "2024-03-01", "2023-11-01", "2022-01-01"]}
RESOURCE_KEYS = {"type", "name", "apiVersion", "location", "tags", "sku", "kind", "zones", "plan", "identity",
                 "properties", "dependsOn", "condition", "comments", "extendedLocation", "metadata"}
FAILED_MSG = ("At least one resource deployment operation failed. Please list deployment operations for details. "
              "Please see https://aka.ms/arm-deployment-operations for usage details.")


class InvalidTemplate(ArmError):
    status, code = 400, "InvalidTemplate"


class DeploymentActive(ArmError):
    status, code = 409, "DeploymentActive"


def _handler(full_type):
    return next((fn for t, fn in HANDLERS.items() if t.lower() == full_type.lower()), None)


class Scope:
    """What template expressions see: parameters, variables, the group, and the resources deployed so far."""

    def __init__(self, backend, dep, template, parameters):
        self.backend, self.dep = backend, dep
        self.template, self.values = template, parameters
        self.subscription_id, self.group_name = dep.id.sub, dep.id.group
        self.var_values, self.evaluating = {}, set()
        self.by_name = {}  # resource name -> resource id, for reference('name')

    def parameter(self, name):
        for key, value in self.values.items():
            if key.lower() == name.lower():
                return value
        raise templates.TemplateError("The template parameter '{}' is not found.".format(name))

    def variable(self, name):
        variables = self.template.get("variables") or {}
        key = next((k for k in variables if k.lower() == name.lower()), None)
        if key is None:
            raise templates.TemplateError("The template variable '{}' is not found.".format(name))
        if key not in self.var_values:
            if key in self.evaluating:
                raise templates.TemplateError("The template variable '{}' refers to itself.".format(key))
            self.evaluating.add(key)
            self.var_values[key] = templates.evaluate(variables[key], self)
            self.evaluating.discard(key)
        return self.var_values[key]

    def resource_group(self):
        group = self.backend.get(self.dep.id.group_id)
        return {"id": str(group.id), "name": group.id.name, "type": "Microsoft.Resources/resourceGroups",
                "location": group.body["location"], "tags": group.body.get("tags") or {},
                "properties": {"provisioningState": "Succeeded"}}

    def subscription(self):
        opts = self.backend.options
        return {"id": "/subscriptions/" + self.subscription_id, "subscriptionId": self.subscription_id,
                "tenantId": opts.tenant_id, "displayName": "armsim"}

    def deployment(self):
        return {"name": self.dep.id.name, "properties": {"template": {"contentVersion": self.template.get(
            "contentVersion", "1.0.0.0")}}}

    def provider(self, namespace, type_):
        versions = API_VERSIONS.get(next((k for k in API_VERSIONS if k.lower() == namespace.lower()), ""))
        if versions is None:
            raise templates.TemplateError("The resource provider '{}' is not known to armsim.".format(namespace))
        return {"namespace": namespace, "resourceType": type_, "apiVersions": list(versions),
                "locations": [self.resource_group()["location"]]}

    def reference(self, target, full):
        rid = ResourceId.parse(target) if isinstance(target, str) and target.startswith("/") else None
        if rid is None:
            known = self.by_name.get(str(target).lower())
            rid = ResourceId.parse(known) if known else None
        res = self.backend.get(rid) if rid else None
        if res is None:
            raise templates.TemplateError("The resource '{}' referenced by reference() is not found.".format(target))
        body = _rendered(self.backend, res)
        return body if full else body.get("properties", {})


def _rendered(backend, res):
    """A resource as its GET answers it (what reference() returns)."""
    if res.type == vms.VM:
        return vms.render(backend, res)
    if res.type == scalesets.VMSS:
        return scalesets.render(backend, res)
    return copy.deepcopy(res.body)


# --- validation ------------------------------------------------------------------------------------
def _parameters(template, given):
    declared = template.get("parameters") or {}
    given = {k: (v or {}).get("value") if isinstance(v, dict) else v for k, v in (given or {}).items()}
    for name in given:
        if not any(name.lower() == d.lower() for d in declared):
            raise InvalidTemplate("Deployment template validation failed: 'The template parameters '{}' in the "
                                  "parameters file are not valid; they are not present in the original template "
                                  "and can therefore not be provided at deployment time.'".format(name))
    return declared, given


def _resolve_parameters(scope, declared, given):
    values = {}
    scope.values = values
    for name, spec in declared.items():
        spec = spec or {}
        provided = next((v for k, v in given.items() if k.lower() == name.lower()), KEEP)
        if provided is KEEP:
            if "defaultValue" not in spec:
                raise InvalidTemplate("Deployment template validation failed: 'The value for the template "
                                      "parameter '{}' is not provided.'".format(name))
            provided = templates.evaluate(spec["defaultValue"], scope)
        _check_parameter(name, spec, provided)
        values[name] = provided
    return values


KEEP = object()
PARAM_TYPES = {"string": str, "securestring": str, "int": int, "bool": bool, "object": dict,
               "secureobject": dict, "array": list}


def _check_parameter(name, spec, value):
    kind = (spec.get("type") or "string").lower()
    expected = PARAM_TYPES.get(kind)
    if expected is None:
        raise InvalidTemplate("Deployment template validation failed: 'The parameter '{}' has type '{}', which "
                              "armsim does not support.'".format(name, spec.get("type")))
    if value is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
        raise InvalidTemplate("Deployment template validation failed: 'The provided value for the template "
                              "parameter '{}' is not valid. Expected a value of type '{}'.'".format(name, spec["type"]))
    allowed = spec.get("allowedValues")
    if allowed is not None and value not in allowed:
        raise InvalidTemplate("Deployment template validation failed: 'The provided value '{}' for the template "
                              "parameter '{}' is not valid. The parameter value is not part of the allowed "
                              "value(s): '{}'.'".format(value, name, ",".join(map(str, allowed))))


def plan(backend, dep, body):
    """Validate a deployment request; returns (scope, resources in template order with ids and deps)."""
    props = body.get("properties") or {}
    if props.get("templateLink") or "template" not in props:
        raise InvalidTemplate("Deployment template validation failed: 'armsim deploys an inline 'template' only "
                              "(templateLink is not supported).'")
    mode = (props.get("mode") or "Incremental").lower()
    if mode != "incremental":
        raise InvalidTemplate("Deployment template validation failed: 'The deployment mode '{}' is not supported "
                              "by armsim; use Incremental.'".format(props.get("mode")))
    template = props["template"]
    if not isinstance(template, dict) or not isinstance(template.get("resources", []), list):
        raise InvalidTemplate("Deployment template validation failed: 'The template must be a JSON object with a "
                              "'resources' array.'")
    try:
        templates.check({k: template.get(k) for k in ("parameters", "variables", "resources", "outputs")},
                        "template")
        declared, given = _parameters(template, props.get("parameters"))
        scope = Scope(backend, dep, template, {})
        _resolve_parameters(scope, declared, given)
        planned = []
        for n, item in enumerate(template.get("resources") or []):
            planned.append(_plan_resource(scope, dep, item, n))
    except templates.TemplateError as e:
        raise InvalidTemplate("Deployment template validation failed: '{}'".format(e))
    by_id = {p["id"].lower(): p for p in planned}
    for p in planned:
        scope.by_name[p["name"].lower()] = p["id"]
    for p in planned:
        p["deps"] = [_resolve_dependency(planned, by_id, d, p) for d in p["dependsOn"]]
        for target in templates.referenced(p["item"].get("properties"), scope):
            implicit = _find_planned(planned, by_id, target)
            if implicit and implicit["id"] not in p["deps"] and implicit is not p:
                p["deps"].append(implicit["id"])
    _check_cycles(planned)
    return scope, planned


def _plan_resource(scope, dep, item, n):
    where = "resources[{}]".format(n)
    for key in ("copy", "resources"):
        if key in item:
            raise templates.TemplateError("The template resource at '{}' uses '{}', which armsim does not "
                                          "support".format(where, key))
    unknown = sorted(set(item) - RESOURCE_KEYS)
    if unknown:
        raise templates.TemplateError("The template resource at '{}' has the property '{}', which armsim does not "
                                      "support".format(where, unknown[0]))
    type_ = templates.evaluate(item.get("type"), scope)
    name = templates.evaluate(item.get("name"), scope)
    if not isinstance(type_, str) or not isinstance(name, str) or "/" not in type_:
        raise templates.TemplateError("The template resource at '{}' needs a 'type' and a 'name'".format(where))
    if _handler(type_) is None:
        raise templates.TemplateError("The resource type '{}' of template resource '{}' is not supported by "
                                      "armsim. Supported: {}".format(type_, name, ", ".join(sorted(HANDLERS))))
    namespace, *types = type_.split("/")
    names = name.split("/")
    if len(names) != len(types):
        raise templates.TemplateError("The template resource '{}' of type '{}' must have {} name segment(s)"
                                      .format(name, type_, len(types)))
    rid = ResourceId(dep.id.sub, dep.id.group, namespace, types, names)
    condition = templates.evaluate(item.get("condition", True), scope)
    return {"item": item, "type": type_, "name": name, "id": str(rid), "rid": rid, "condition": bool(condition),
            "dependsOn": templates.evaluate(item.get("dependsOn") or [], scope), "where": where}


def _find_planned(planned, by_id, ref):
    """The template resource that an id, a 'type/name' or a name alone names, or None."""
    text = str(ref)
    found = by_id.get(text.lower())
    if found is None:
        found = next((p for p in planned if p["id"].lower().endswith("/providers/" + text.lower())), None)
    if found is None:
        found = next((p for p in planned if p["name"].lower() == text.lower()), None)
    return found


def _resolve_dependency(planned, by_id, ref, owner):
    """dependsOn names a template resource by id, by 'type/name', or by name alone."""
    text = str(ref)
    found = _find_planned(planned, by_id, text)
    if found is None:
        raise InvalidTemplate("Deployment template validation failed: 'The resource '{}' is not defined in the "
                              "template (dependsOn of '{}').'".format(text, owner["name"]))
    return found["id"]


def _check_cycles(planned):
    by_id = {p["id"]: p for p in planned}
    state = {}

    def visit(p, path):
        if state.get(p["id"]) == "done":
            return
        if state.get(p["id"]) == "visiting":
            raise InvalidTemplate("Deployment template validation failed: 'Circular dependency detected on resource: "
                                  "'{}'.'".format(" -> ".join(path + [p["name"]])))
        state[p["id"]] = "visiting"
        for d in p["deps"]:
            visit(by_id[d], path + [p["name"]])
        state[p["id"]] = "done"
    for p in planned:
        visit(p, [])


# --- the deployment resource ---------------------------------------------------------------------------
def _template_hash(template):
    return str(int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:15], 16))


def put_deployment(backend, rid, body):
    """Validate and start a deployment. Returns (resource, created, operation)."""
    body = body or {}
    existing = backend.get(rid)
    if existing is not None and existing.props.get("provisioningState") in ("Accepted", "Running"):
        raise DeploymentActive("Unable to edit or replace deployment '{}': previous deployment from '{}' is still "
                               "active (current provisioning state: {}).".format(
                                   rid.name, existing.props.get("timestamp"), existing.props["provisioningState"]))
    group = backend.get(rid.group_id)
    dep = new_resource(rid, {"properties": {}}, group.body["location"])
    dep.body.pop("location", None)
    scope, planned = plan(backend, dep, body)
    now = backend.now()
    dep.props.update(_summary(backend, body, scope, planned), provisioningState="Accepted",
                     correlationId=_id_from(rid, now))
    dep.state.update(request=copy.deepcopy(body), started=now, done=[], operations=[])
    backend.put(dep)
    # ARM runs every deployment asynchronously: at --lro-seconds 0 it is complete at the first poll
    op = backend.begin(group.body["location"], "deployment_step", delay=max(backend.options.lro_seconds, 0.001),
                       deployment=str(rid))
    return dep, existing is None, op


def _id_from(rid, now):
    digest = hashlib.sha256("{}{}".format(rid, now).encode()).hexdigest()
    return "{}-{}-{}-{}-{}".format(digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])


def _shown_parameters(template, scope):
    declared = template.get("parameters") or {}
    out = {}
    for name, value in scope.values.items():
        kind = (declared.get(name) or {}).get("type", "string")
        out[name] = {"type": kind[:1].upper() + kind[1:]}
        if not kind.lower().startswith("secure"):
            out[name]["value"] = value
    return out


def _providers(planned, location):
    """The resource types a template deploys, by provider namespace (wire: test_create_flexible_vmss_by_default #5)."""
    out = {}
    for p in planned:
        namespace, _, rest = p["type"].partition("/")
        types = out.setdefault(namespace, [])
        if rest not in types:
            types.append(rest)
    return [{"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": [location]} for t in types]}
            for ns, types in out.items()]


def _dependencies(planned):
    by_id = {p["id"]: p for p in planned}
    return [{"dependsOn": [{"id": d, "resourceType": by_id[d]["type"], "resourceName": by_id[d]["name"]}
                           for d in p["deps"]],
             "id": p["id"], "resourceType": p["type"], "resourceName": p["name"]} for p in planned if p["deps"]]


def get(backend, rid):
    res = backend.get(rid)
    if res is None or res.type.lower() != DEPLOYMENT.lower():
        raise not_found(rid)
    return res


def validate(backend, rid, body):
    """POST .../validate: the same checks as a PUT, nothing created."""
    group = backend.get(rid.group_id)
    dep = new_resource(rid, {"properties": {}}, group.body["location"])
    scope, planned = plan(backend, dep, body or {})
    props = dict(_summary(backend, body or {}, scope, planned), provisioningState="Succeeded",
                 validatedResources=[{"id": p["id"]} for p in planned])
    return {"id": str(rid), "name": rid.name, "type": DEPLOYMENT, "properties": props}


def _summary(backend, body, scope, planned):
    """What a deployment's properties say of its template before it runs."""
    template = body["properties"]["template"]
    return {"templateHash": _template_hash(template), "parameters": _shown_parameters(template, scope),
            "mode": "Incremental", "timestamp": iso(backend.now()), "duration": "PT0S",
            "providers": _providers(planned, scope.resource_group()["location"]),
            "dependencies": _dependencies(planned)}


def render(backend, res):
    body = copy.deepcopy(res.body)
    body.pop("location", None)
    return body


def operations(backend, res):
    return [dict(o) for o in res.state.get("operations", [])]


def delete_deployment(backend, rid):
    res = backend.get(rid)
    if res is not None:
        backend.remove(res)
    return res is not None


# --- running -----------------------------------------------------------------------------------------------
@event("deployment_step")
def _step(backend, deployment):
    """Create every resource whose dependencies have succeeded; continue until all are done or one fails."""
    from ..backend import Next
    backend.tick()  # let the resources' own operations that are due finish first
    dep = backend.get(deployment)
    if dep is None:
        return None
    dep.props["provisioningState"] = "Running"
    body = dep.state["request"]
    scope, planned = plan(backend, dep, body)
    done, pending = set(dep.state["done"]), dep.state.setdefault("pending", {})
    for rid, op_id in list(pending.items()):
        state = _resource_state(backend, rid, op_id)
        if state == "Failed":
            _fail(backend, dep, rid, _operation_error(backend, op_id, rid))
        if state == "Succeeded":
            pending.pop(rid)
            done.add(rid)
            _record(backend, dep, rid, "Succeeded")
    for p in planned:
        if p["id"] in done or p["id"] in pending:
            continue
        if not p["condition"]:
            done.add(p["id"])
            continue
        if all(d in done for d in p["deps"]):
            _create(backend, dep, scope, p, pending, done)
    dep.state["done"] = sorted(done)
    if len(done) < len(planned):
        return Next(max(0.5, backend.options.lro_seconds / 2), "deployment_step", deployment=deployment)
    _finish(backend, dep, scope, planned)
    return None


def _create(backend, dep, scope, p, pending, done):
    item = p["item"]
    try:
        resource_body = {k: templates.evaluate(v, scope) for k, v in item.items()
                         if k not in ("type", "name", "apiVersion", "dependsOn", "condition", "comments")}
    except templates.TemplateError as e:
        _fail(backend, dep, p["id"], {"code": "InvalidTemplate", "message": "Unable to process template language "
                                      "expressions for resource '{}': {}".format(p["id"], e)})
    try:
        res, _, op = _handler(p["type"])(backend, p["rid"], _without_nulls(resource_body))
    except ArmError as e:
        _fail(backend, dep, p["id"], e.body()["error"])
    if op is not None and op.get("status") == "Failed":
        _fail(backend, dep, p["id"], op.get("error"))
    if op is not None and op.get("status") == "InProgress":
        pending[p["id"]] = op["name"]
    else:
        done.add(p["id"])
        _record(backend, dep, p["id"], "Succeeded")


def _without_nulls(value):
    """A request body as the resource providers read it: a null property is one not given."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _resource_state(backend, rid, op_id):
    op = backend.operations.get(op_id)
    if op is not None:
        return {"InProgress": "Running"}.get(op["status"], op["status"])
    res = backend.get(rid)
    return (res.props.get("provisioningState") if res is not None else "Failed") or "Succeeded"


def _operation_error(backend, op_id, rid):
    op = backend.operations.get(op_id) or {}
    return op.get("error") or {"code": "ResourceDeploymentFailure",
                               "message": "The resource '{}' ended in provisioning state 'Failed'.".format(rid)}


def _record(backend, dep, rid, state, error=None):
    target = ResourceId.parse(rid)
    n = len(dep.state["operations"]) + 1
    op_id = "{:016X}".format(int(hashlib.sha256("{}{}".format(dep.id, rid).encode()).hexdigest()[:15], 16))
    entry = {"id": "{}/operations/{}".format(dep.id, op_id), "operationId": op_id, "properties": {
        "provisioningOperation": "Create", "provisioningState": state, "timestamp": iso(backend.now()),
        "duration": "PT{}S".format(n), "trackingId": _id_from(target, n),
        "statusCode": "OK" if state == "Succeeded" else "BadRequest",
        "targetResource": {"id": rid, "resourceType": target.full_type, "resourceName": target.full_name}}}
    if error:
        entry["properties"]["statusMessage"] = {"status": "Failed", "error": error}
    dep.state["operations"].append(entry)


def _fail(backend, dep, rid, error):
    _record(backend, dep, rid, "Failed", error)
    err = {"code": "DeploymentFailed", "target": str(dep.id), "message": FAILED_MSG, "details": [error]}
    dep.props.update(provisioningState="Failed", error=err, duration=_duration(backend, dep))
    dep.state.pop("pending", None)
    raise _Failed(err)


class _Failed(ArmError):
    def __init__(self, error):
        super().__init__(error["message"])
        self.error = error

    def body(self):
        return {"error": self.error}


def _duration(backend, dep):
    return "PT{:.3f}S".format(max(0.0, backend.now() - dep.state.get("started", backend.now())))


def _finish(backend, dep, scope, planned):
    outputs = {}
    try:
        for name, spec in (scope.template.get("outputs") or {}).items():
            kind = (spec or {}).get("type", "string")
            outputs[_camel(name)] = {"type": kind[:1].upper() + kind[1:],
                                     "value": templates.evaluate((spec or {}).get("value"), scope)}
    except templates.TemplateError as e:
        _fail(backend, dep, str(dep.id), {"code": "InvalidTemplate",
                                          "message": "Unable to evaluate the template outputs: {}".format(e)})
    dep.props.update(provisioningState="Succeeded", outputs=outputs, duration=_duration(backend, dep),
                     timestamp=iso(backend.now()),
                     outputResources=[{"id": p["id"]} for p in sorted(planned, key=lambda p: p["id"].lower())
                                      if p["condition"] and "/" not in p["name"]])
    dep.state.pop("pending", None)


def _camel(name):
    """ARM answers output names camel-cased ("VMSS" -> "vmss", "VMName" -> "vmName")."""
    m = re.match(r"^([A-Z]+)(?=[A-Z][a-z]|$)|^([A-Z])", name)
    if not m:
        return name
    head = m.group(0)
    return head.lower() + name[len(head):]
