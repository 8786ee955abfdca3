# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The rule table: every behaviour armsim enforces, its provenance (doc / wire / decision), and where it is checked.

Ids and texts follow ../shared/reference/simulator-rules.md. A refusal names the rule that fired ("(armsim rule
A3)"). `GET /simulator/rules` lists this table. `check` names the one function (under armsim/) that enforces a
rule. A decision rule where Azure's behaviour is not publicly documented (an open question of arm-semantics.md §5)
has two or more named readings, the first being the default; `--rule ID=READING` selects one (`ID=opposite` the
second, `ID=default` the first). `GET /simulator/rules` lists each with its question and what each reading means.
"""
import importlib
from collections import namedtuple

Rule = namedtuple("Rule", "id provenance text check readings question")
Rule.__new__.__defaults__ = (None, None)

DEFAULT, OPPOSITE = "default", "opposite"  # aliases of a decision rule's first and second readings
LAG_SECONDS = 10.0  # rule C5's "lag" reading when --consistency-seconds is not given

RULES = [
    Rule("W1", "decision", "HTTPS only, on 127.0.0.1, with a generated certificate trusted through REQUESTS_CA_BUNDLE",
         "tls.ensure_certificate"),
    Rule("W2", "wire", "GET /metadata/endpoints returns cloud metadata for az cloud register",
         "responses.identity.metadata"),
    Rule("W3", "decision", "OIDC discovery and a client-credentials token endpoint for az login --service-principal",
         "auth.check"),
    Rule("W4", "decision", "Any api-version is accepted; responses use the 2024-11-01 shapes",
         "responses.common.api_version"),
    Rule("W5", "wire", "Ids are compared case-insensitively", "ids.same_id"),
    Rule("W6", "wire", "Every write Azure runs as a long-running operation answers as the recordings show, at every "
                       "--lro-seconds (0 too): PUT/PATCH 201 (create) or 200 with provisioningState Creating or "
                       "Updating and Azure-AsyncOperation; POST actions and DELETE 202 with Azure-AsyncOperation and "
                       "Location; the operation reports InProgress, then Succeeded/Failed after --lro-seconds (at 0: "
                       "done at the first poll). azure-recordings: test_capacity_reservation_operations #1 #3 #6 "
                       "#11, test_vm_stop_start #13 #18, test_vm_vmss_update_ultra_ssd_enabled #16 #20 #37 #45, "
                       "test_vmss_vms #18-#42", "responses.common.lro"),
    Rule("W7", "wire", "Lists return nextLink past the page size", "responses.common.page"),
    Rule("W8", "wire", "$filter='virtualMachineScaleSet/id' eq '{id}' on the VM list returns a Flexible scale "
                       "set's members", "models.vms.list_vms"),
    Rule("W9", "wire", "Scale-set actions take an optional {instanceIds}; none, or '*', means every instance",
         "models.scalesets.targets"),
    Rule("W10", "decision", "An in-progress answer carries Retry-After (whole seconds, at least 1, until the "
                            "operation's next step) so that clients poll at the simulated pace; when that step is "
                            "due at once (--lro-seconds 0) it carries none, like every recorded answer, and the "
                            "first poll finds the operation done. With --synchronous (a shortcut nothing in the "
                            "tests needs) and --lro-seconds 0, writes complete synchronously instead: 200/201, "
                            "no async headers", "responses.common.retry_after"),
    Rule("W11", "doc", "A request for anything in a resource group that does not exist answers 404 "
                       "ResourceGroupNotFound (\"Resource group 'x' could not be found.\"), as ARM does",
         "models.common.require_group"),
    Rule("W12", "doc", "PUT/PATCH of a VM or scale set honours If-Match (412 PreconditionFailed when the etag "
                       "differs) and If-None-Match: * (412 when it exists)", "models.common.check_etag"),
    Rule("W13", "decision", "With --write-budget N (or N/S), at most N writes (PUT, PATCH, POST, DELETE) are accepted "
                            "in any 60 (or S) seconds; a write beyond them answers 429 SubscriptionRequestsThrottled "
                            "with Retry-After: the whole seconds until the oldest accepted write leaves the window. "
                            "Reads are not throttled. GET /simulator/throttle counts writes sent again before their "
                            "Retry-After elapsed", "throttle.check"),
    Rule("W14", "doc/wire", "With --arm-limits, ARM's token buckets per subscription (one principal): reads 250 tokens "
                            "refilled at 25 per second, writes (PUT, PATCH, POST) 200 at 10, deletes 200 at 10 (sizes "
                            "settable), and a global bucket 15 times each (\"Understand how Azure Resource Manager "
                            "throttles requests\"). A request finding its bucket empty is refused before it reaches "
                            "the provider: 429 SubscriptionRequestsThrottled with Retry-After, whole seconds until a "
                            "token is back (the message as ARM words it). Every answer to a subscription's request "
                            "carries x-ms-ratelimit-remaining-subscription-reads|writes|deletes and -global-reads|"
                            "writes|deletes, the tokens left (azure-recordings: writes 199 and global-writes 2999 "
                            "after a first PUT, deletes 199 after a DELETE, global-reads 3749 on reads and operation "
                            "polls; the CLI's recorder strips -subscription-reads and Retry-After). GET "
                            "/simulator/throttle counts, per kind, throttled answers and requests sent again before "
                            "their Retry-After elapsed", "throttle.Limits.check"),
    Rule("W15", "decision", "With --arm-limits (unless compute=off), Compute's per-operation policies of \"Compute "
                            "throttling limits\" for VMs and scale sets: a bucket per resource and per subscription "
                            "(PutVM, UpdateVM incl. start/powerOff/restart, DeleteVM incl. deallocate: 12 per VM "
                            "refilled at 4 per minute, 1500 per subscription at 500; LowCostGet, GetOperation, "
                            "HighCostGet and the scale-set policies as tabled there), reported in "
                            "x-ms-ratelimit-remaining-resource as the recordings show it (\"Microsoft.Compute/"
                            "UpdateVMSubscriptionMaximum;1499,Microsoft.Compute/UpdateVMResource;11\"); an empty "
                            "bucket answers 429 OperationNotAllowed naming the policy, with Retry-After. Which "
                            "request falls under which policy beyond the page and the recordings is armsim's "
                            "reading; scale-set instance requests are not limited", "throttle.compute_policy"),
    Rule("W16", "decision", "--lro-seconds MEAN:SPREAD[:SEED] draws each long-running operation's duration "
                            "uniformly from [MEAN-SPREAD, MEAN+SPREAD] (not below 0), from a generator seeded with "
                            "SEED (default 0) in the order operations start; MEAN alone: every operation takes MEAN",
         "backend.Backend.lro_delay"),

    Rule("A1", "doc/wire", "capacityReservationGroup {} or {id: null} clears an association; capacityReservation "
                           "null, capacityReservationGroup null, or either missing change nothing; id '' is 400 "
                           "LinkedInvalidPropertyId", "models.common.requested_association"),
    Rule("A2", "doc", "A deallocated VM (standalone or Flexible member) or Uniform instance may be attached, "
                      "detached or switched freely", "models.associations.check_move"),
    Rule("A3", "doc", "An allocated regional VM cannot be attached or switched: 409 OperationNotAllowed; an "
                      "allocated zonal VM may be attached in place (none to A)", "models.associations.check_move"),
    Rule("A3s", "decision", "An allocated zonal VM switching groups (A to B) in place",
         "models.associations.check_move",
         {"refused": "refused: 409 OperationNotAllowed (like a scale set, doc R14)",
          "in-place": "allowed when A4 allows it to leave A (its reservation in A has capacity 0)"},
         "Q3: is a zonal A to B switch allowed in place on a running VM?"),
    Rule("A3p", "decision", "An allocated zonal VM (standalone or Flexible member) attached in place (none to A), "
                            "which the docs mark Preview", "models.associations.check_move",
         {"allowed": "allowed: it consumes the reservation at once (doc R7)",
          "refused": "refused with 409 OperationNotAllowed, as for a regional VM (the preview is not enabled): "
                     "deallocate, attach, start"},
         "R7: is attaching a running zonal VM (Preview) available to every subscription?"),
    Rule("A3z", "decision", "An allocated regional VM, or the model of a Uniform regional scale set with allocated "
                            "instances, attached (none to A) when every reservation of A that would serve it has "
                            "capacity 0", "models.associations.check_move",
         {"refused": "refused like any regional attach (A3, A5): deallocate first",
          "allowed-at-zero": "allowed in place: it consumes nothing, as the zero-capacity pattern does for zonal "
                             "machines"},
         "Q7: does capacity 0 also allow attaching a running regional VM or scale set?"),
    Rule("A4", "doc", "An allocated VM may be detached only when the reservation it consumes has capacity 0; "
                      "otherwise 409 OperationNotAllowed", "models.associations.check_move"),
    Rule("A4z", "decision", "Whether A4's capacity-0 exception (and A5's for a model) also holds for a regional "
                            "machine", "models.associations.check_move",
         {"any": "zonal and regional machines alike may leave while allocated once the reservation has capacity 0",
          "zonal-only": "only zonal machines: an allocated regional VM, instance or scale-set model cannot leave at "
                        "capacity 0 (409 OperationNotAllowed); deallocate first"},
         "Q7: the zero-size pattern is documented only for zonal VMs; does it work for regional ones?"),
    Rule("A5", "doc", "A Uniform scale set's model association may change when no instance is allocated; with "
                      "allocated instances only attach (none to A) of a zonal scale set, and detach (A to none) "
                      "when every reservation of A matching its size has capacity 0; otherwise 409 "
                      "OperationNotAllowed", "models.associations.check_model_change"),
    Rule("A5s", "decision", "A Uniform scale set with allocated instances switching groups (A to B)",
         "models.associations.check_model_change",
         {"refused": "refused: 409 OperationNotAllowed (doc R14 for zonal sets; never in place)",
          "in-place": "a zonal scale set may switch in place when A5 allows it to leave A (every reservation of A "
                      "matching its size has capacity 0)"},
         "R14: may a zonal scale set switch groups in place?"),
    Rule("A5i", "decision", "Where A5 is enforced for a Uniform scale set with allocated instances",
         "models.associations.check_model_change",
         {"on-model": "on the model: the scale-set PUT is refused with 409 OperationNotAllowed",
          "on-instances": "on the instances: the model change is accepted, and A2-A5s are checked per instance "
                          "when the model is applied (Automatic and Rolling leave a refused instance on its old "
                          "model and count it failed; manualupgrade answers 409)"},
         "Q1: is a model change with allocated regional instances refused, or accepted without moving them?"),
    Rule("A6", "doc", "After a Uniform model change existing instances follow the upgrade policy: Automatic all at "
                      "once; Rolling in batches of maxBatchInstancePercent with pauseTimeBetweenBatches (times "
                      "--pause-scale), visible at rollingUpgrades/latest; Manual nothing until POST manualupgrade "
                      "{instanceIds}. latestModelApplied is false until then, and start does not apply a newer "
                      "model (modify-a-vmss.md)", "models.scalesets.follow_policy"),
    Rule("A6p", "doc/decision", "An instance whose protectionPolicy.protectFromScaleSetActions is true is not "
                                "upgraded by the Automatic or Rolling policy, and an action on the whole scale set "
                                "(no instanceIds, or '*': deallocate, start, ...) skips it (doc: 'protects instance "
                                "from operations initiated on the scale set (such as upgrade, reimage, deallocate)', "
                                "virtual-machine-scale-sets-instance-protection). Decision: an action naming the "
                                "instance in instanceIds (manualupgrade, deallocate) is the 'user-initiated instance "
                                "operation' the doc does not block, and reaches it. A PUT or PATCH of a Uniform "
                                "instance sets its protectionPolicy (nothing else of it is modelled)",
         "models.scalesets.protected"),
    Rule("A6a", "decision", "Test knob: POST /simulator/scale-out {scaleSet, count} makes the Uniform scale set's "
                            "next action (POST deallocate, start, ...) first add that many running instances, as an "
                            "autoscale scale-out landing just before it", "models.scalesets.arm_scale_out"),
    Rule("A6f", "decision", "Test knob: POST /simulator/rolling-upgrades {scaleSet, end: Faulted|Cancelled, "
                            "afterBatches} makes the scale set's next rolling upgrade end so after that many batches; "
                            "the instances not yet upgraded keep their model", "models.scalesets.arm_rolling_end"),
    Rule("A6s", "decision", "What start does to a deallocated Uniform instance that is not on the latest model",
         "models.scalesets.action",
         {"keeps-model": "it starts on the model it has: the new association waits for manualupgrade",
          "applies-model": "it is allocated with the latest model (association included), as a new instance is"},
         "Q4: after a regional deallocation under Manual, does start alone apply a new group?"),
    Rule("A6d", "decision", "POST manualupgrade of a deallocated Uniform instance", "models.scalesets.action",
         {"applies": "the instance takes the latest model (association included) while deallocated",
          "on-start": "accepted, but the instance takes the latest model only when it is next started; until "
                      "then latestModelApplied stays false and the association is unchanged"},
         "Q4: does manualupgrade work on deallocated instances?"),
    Rule("A6r", "decision", "A Rolling scale set's model change", "models.scalesets.follow_policy",
         {"rolls": "starts a rolling upgrade of the instances not on the latest model (A6)",
          "waits": "starts nothing: instances keep their model until manualupgrade (or a rolling upgrade is "
                   "started), as under Manual"},
         "Q4: does a model change alone start a rolling upgrade under Rolling?"),
    Rule("A7", "doc/decision", "A Flexible scale set's profile may change at any time and governs VMs created "
                               "afterwards (doc R17); whether it also changes existing members is not documented",
         "models.scalesets.follow_policy",
         {"own-api": "existing members change only through their own VM API",
          "follows-policy": "with upgrade policy Automatic or Rolling, a profile association change is also "
                            "applied to existing members at once, each subject to A2-A4 (a refused member keeps "
                            "its association)"},
         "R17: does a Flexible profile change reach existing members?"),
    Rule("A8", "doc", "Setting an association is refused with 400 InvalidParameter when the group does not exist, "
                      "its region differs, it is zonal and the machine regional (or the reverse) or the machine's "
                      "zones are not within the group's, no reservation in it matches the size (and each zone), "
                      "a Uniform set has singlePlacementGroup=true, platformFaultDomainCount exceeds the "
                      "reservation's, or the priority is Spot (the code is a decision). A group in another "
                      "subscription (shared, doc R23) is not checked: armsim models one subscription",
         "models.associations.check_target"),
    Rule("A10", "decision", "A PATCH of a scale set carrying virtualMachineProfile.capacityReservation (not in the "
                            "PATCH model of the REST spec)", "models.scalesets.put_vmss",
         {"applied": "applied like a PUT's, with the same checks",
          "ignored": "200, and the association is silently left as it was"},
         "Q5: is a scale-set PATCH carrying the association ignored or applied?"),
    Rule("A11", "decision", "Whether a Uniform instance shows properties.capacityReservation",
         "models.scalesets.render_instance",
         {"hidden": "never, as the 2024-11-01 REST spec has it: read the association from the group's lists",
          "shown": "the group the instance is associated with (its applied model's), as the azure-cli design note "
                   "has it"},
         "Q6: do Uniform instances expose their own capacityReservation?"),
    Rule("A9", "doc/wire", "Deallocating a VM or instance with an ephemeral OS disk fails with 409 "
                           "OperationNotAllowed (\"Operation 'deallocate' is not supported for VMs or VM Scale Set "
                           "instances using an ephemeral OS disk.\")", "models.power.check_action"),

    Rule("C1", "doc/wire", "virtualMachinesAssociated lists every associated machine; "
                           "utilizationInfo.virtualMachinesAllocated the allocated ones; Uniform instances appear "
                           "as .../virtualMachineScaleSets/{s}/virtualMachines/{instanceId}",
         "models.capacity.associated"),
    Rule("C2", "doc", "Allocation is never refused because a reservation is full: the excess is overallocation",
         "models.capacity.utilization"),
    Rule("C3", "doc", "Lowering sku.capacity (to 0 too) always succeeds; only tags and sku.capacity change",
         "models.capacity.change_capacity"),
    Rule("C4", "doc", "Deleting a reservation with associations is 409 OperationNotAllowed; deleting a group with "
                      "reservations (or associations) is 409 CannotDeleteResource", "models.capacity.check_deletable"),
    Rule("C5", "doc/decision", "Association lists (and the delete checks of C4 that read them) lag a change "
                               "(a machine joining, leaving, going away) by --consistency-seconds",
         "models.capacity.listed_group",
         {"none": "no lag (unless --consistency-seconds is given)",
          "lag": "every change shows in the lists only after --consistency-seconds, {:g} s when not given".format(
              LAG_SECONDS)},
         "Q8: how long do virtualMachinesAssociated / virtualMachinesAllocated lag a change?"),
    Rule("C6", "doc", "A reservation is made in its group's location and in exactly one of its zones (none when the "
                      "group is regional); a group holds one reservation per size and zone: otherwise 400 "
                      "InvalidParameter (doc R4, R5)", "models.capacity.check_new_reservation"),
    Rule("C7", "doc", "A group's properties.reservationType is Targeted (the default) or Block, and cannot change. "
                      "A reservation in a Block group needs scheduleProfile {start, end} (dates), in any other group "
                      "it takes none; start is today (before 11:30 UTC) or within 56 days, end 1-14 whole days or "
                      "3-26 whole weeks later; it cannot change; it is shown from 12:00 UTC on the start day to "
                      "11:30 UTC on the end day. Otherwise 400 InvalidParameter, or 409 PropertyChangeNotAllowed "
                      "(ScheduleProfile, api-version 2025-04-01; BlockCapacityReservation_CreateOrUpdate). armsim "
                      "does not hold allocation to the window", "models.capacity.check_schedule"),
    Rule("K1", "decision", "On-demand capacity: a pool of free machines per location, zone (or region) and size, "
                           "unlimited unless set (--capacity LOCATION[/ZONE]:SIZE=COUNT, a seed file's `capacity`, "
                           "POST /simulator/capacity). A zonal machine or reservation draws on its zone's pool when "
                           "set, else on its region's. What a seed makes holds its machines already and draws nothing; "
                           "what it gives back later returns to the pool", "models.allocation.pool_for"),
    Rule("K2", "doc", "Allocation (VM create, start and resize while allocated, scale set create, scale-out and "
                      "start, Flexible members, Uniform instances) draws first on the reservation the machine is "
                      "associated with, up to its quantity, then on the pool; deallocation and deletion give back "
                      "what was drawn (Capacity reservation overview: beyond the reserved quantity allocation is "
                      "subject to Azure fulfilling the extra capacity). A resize the new size's capacity cannot "
                      "cover ends Failed and leaves the VM as it was", "models.allocation.allocate"),
    Rule("K3", "doc/decision", "Not enough: the operation ends Failed with ZonalAllocationFailed (zonal machine) or "
                               "AllocationFailed (regional) and Azure's text (the single-placement-group text for a "
                               "Uniform instance of a set with singlePlacementGroup=true), or "
                               "OverconstrainedAllocationRequest when an ephemeral OS disk narrows it (the choice of "
                               "that constraint is a decision). A machine that cannot start stays deallocated; a "
                               "machine being made is made deallocated with provisioningState Failed (a decision)",
         "models.allocation.error_for"),
    Rule("K4", "decision", "A start of several machines (a scale set's instances) allocates them one by one in the "
                           "order named, each while there is capacity: those that cannot stay deallocated, the "
                           "others run, and the operation ends Failed (Azure's troubleshooting treats each "
                           "instance's start as its own allocation). Starts draw when their operation completes; "
                           "creations when the machine is made", "models.power.finish_action"),
    Rule("K5", "doc/decision", "A reservation's quantity is drawn from the pool when it is created (all or nothing) "
                               "or increased, and given back when decreased or deleted. An increase or creation the "
                               "pool cannot cover ends Failed with AllocationFailed or ZonalAllocationFailed; the "
                               "quantity stays as it was and a refused creation leaves no reservation (Azure may "
                               "leave the reservation Failed instead: not modelled)", "models.allocation.reserve"),
    Rule("K6", "decision", "Lowering a reservation below the machines drawing on it (to 0 too) leaves them running on "
                           "their hardware as on-demand machines: the pool gets back only the unused quantity, so "
                           "raising the quantity again draws anew", "models.allocation.reserve"),
    Rule("K7", "decision", "GET /simulator/capacity reports each pool's free machines and the number of allocation "
                           "failures since the simulator started", "models.allocation.describe"),
    Rule("P1", "doc", "deallocate releases the hardware, powerOff keeps it, start allocates; the instance view "
                      "reports PowerState/running|stopped|deallocated|starting|deallocating",
         "models.power.begin_action"),
    Rule("P2", "doc", "A started machine associated to a group consumes the matching reservation",
         "models.capacity.utilization"),

    Rule("D1", "doc", "A template deployment (PUT .../providers/Microsoft.Resources/deployments/{name}) is validated "
                      "before anything is created: parameters (type, allowedValues, a value for each without a "
                      "default), every expression's syntax and functions, every resource type, and dependsOn (each "
                      "must name a resource of the template; no cycles); a failure is 400 InvalidTemplate naming "
                      "what is wrong", "models.deployments.plan"),
    Rule("D2", "wire", "A deployment answers 201 provisioningState Accepted with Azure-AsyncOperation (at "
                       "--lro-seconds 0 too: complete at the first poll), creates its resources in dependsOn order "
                       "through the same rules as a direct PUT, and ends Succeeded with outputs (names camel-cased) "
                       "and outputResources, or Failed: DeploymentFailed with the failing resource's error in "
                       "details; .../deployments/{name}/operations lists one entry per resource",
         "models.deployments.put_deployment"),
    Rule("D3", "decision", "Only the template functions of armsim/templates.py and the resource types of "
                           "models/deployments.py HANDLERS are deployed; any other function or type, copy loops, "
                           "nested resources, templateLink and Complete mode are 400 InvalidTemplate naming them",
         "templates.check"),
    Rule("S1", "wire", "The resource SKU list (GET .../providers/Microsoft.Compute/skus, $filter=location eq 'x') "
                       "has one virtualMachines entry per size and location of armsim's table, with locationInfo "
                       "zones and capabilities (vCPUs, MemoryGB, CapacityReservationSupported, ...); image look-ups "
                       "(publishers, offers, skus, versions, version) answer the images of the table, anything else "
                       "404; a marketplace image's exactVersion is the table's latest version",
         "models.catalog.resource_skus"),
    Rule("N1", "wire", "Network resources (virtual networks, subnets, NSGs, public IPs, load balancers, NICs) are "
                       "kept with what Azure fills in: child ids and types, provisioningState, resourceGuid, a NIC's "
                       "next free address in its subnet, a public IP address, the six default security rules, and "
                       "back-references (a subnet's ipConfigurations, a NIC's virtualMachine and macAddress once a "
                       "VM uses it); child resources (subnets, security rules, inbound NAT rules) live in their "
                       "parent", "models.network.put"),

    Rule("F1", "decision", "Injected faults (--faults, /simulator/faults; none by default) never touch /simulator/*, "
                           "the token endpoint or metadata. A request refused by one (429 TooManyRequests with "
                           "Retry-After, 500, 503, 409 Conflict or OperationNotAllowed, a connection closed before "
                           "it is handled, each maybe after a delay) changes nothing; with reset-after the request "
                           "takes effect and its answer is lost", "faults.refusal"),
    Rule("F2", "decision", "A long-running operation that ends Failed (fault lro-failed) reports "
                           "{status: Failed, error: {code, message}}. An action (start, deallocate, powerOff, "
                           "restart, manualupgrade) leaves its targets in their previous power state and model; a "
                           "PUT/PATCH keeps the new model with provisioningState Failed, and a scale set's follow-up "
                           "(upgrade policy, member count) runs on its next write", "faults.fail"),
]

BY_ID = {r.id: r for r in RULES}
SWITCHABLE = [r.id for r in RULES if r.readings]


class RuleOptionError(ValueError):
    pass


def first(rule):
    return next(iter(rule.readings))


def parse_overrides(items):
    """{rule id: reading name} from `ID=READING` strings (`opposite` the second reading, `default` the first)."""
    out = {}
    for item in items or []:
        rule_id, _, reading = item.partition("=")
        rule = BY_ID.get(rule_id.strip())
        if rule is None or not rule.readings:
            raise RuleOptionError("armsim: --rule {}: only these decision rules have readings: {}".format(
                item, ", ".join(SWITCHABLE)))
        names = list(rule.readings)
        reading = {DEFAULT: names[0], OPPOSITE: names[1]}.get(reading.strip(), reading.strip())
        if reading not in names:
            raise RuleOptionError("armsim: --rule {}: the reading must be one of {} (or '{}', '{}')".format(
                item, ", ".join(names), DEFAULT, OPPOSITE))
        out[rule.id] = reading
    return out


def reading(options, rule_id):
    """The reading of a decision rule this simulator runs: the one chosen with --rule, else the first."""
    return options.rule_overrides.get(rule_id) or first(BY_ID[rule_id])


def opposite(options, rule_id):
    """True when the simulator runs a reading of the rule other than its first (default) one."""
    return reading(options, rule_id) != first(BY_ID[rule_id])


def lag_seconds(options):
    """Rule C5: how long association lists lag a change."""
    if options.consistency_seconds > 0:
        return options.consistency_seconds
    return LAG_SECONDS if reading(options, "C5") == "lag" else 0.0


def resolve(rule):
    """The function (or method: module.Class.name) a rule's `check` names."""
    parts = rule.check.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module("armsim." + ".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(rule.check)


def describe(options):
    out = []
    for r in RULES:
        item = {"id": r.id, "provenance": r.provenance, "text": r.text, "check": r.check, "enabled": True,
                "reading": None}
        if r.readings:
            item.update(reading=reading(options, r.id), default=first(r), readings=dict(r.readings),
                        question=r.question)
        if r.id == "C5":
            item["enabled"] = lag_seconds(options) > 0
            item["reading"] = "lag" if item["enabled"] else "none"
            item["lagSeconds"] = lag_seconds(options)
        if r.id == "A6":
            item["reading"] = "pauses x{}".format(options.pause_scale)
        if r.id == "K1":
            item["reading"] = "pools at start: " + (", ".join(options.capacity) or "none (unlimited)")
        if r.id in ("W13", "W14", "W15"):
            from . import throttle
            limits = throttle.of(options)
            on = {"W13": limits and limits.budget, "W14": limits and limits.sizes,
                  "W15": limits and limits.sizes and limits.compute}[r.id]
            item["enabled"] = bool(on)
            item["reading"] = limits.describe() if on else "off"
        if r.id == "W16":
            item["reading"] = "mean {:g} s, spread {:g} s, seed {}".format(
                options.lro_seconds, options.lro_spread, options.lro_seed)
        out.append(item)
    return out
