"""The rule table: every behaviour armsim enforces, with its provenance (doc / wire / decision).

Ids and texts follow ../shared/reference/simulator-rules.md. Errors name the rule that fired
("(armsim rule A3)"). `GET /simulator/rules` lists this table.
"""
from collections import namedtuple

Rule = namedtuple("Rule", "id provenance text")

RULES = [
    Rule("W1", "decision", "HTTPS only, on 127.0.0.1, with a generated certificate trusted through REQUESTS_CA_BUNDLE"),
    Rule("W2", "wire", "GET /metadata/endpoints returns cloud metadata for az cloud register"),
    Rule("W3", "decision", "OIDC discovery and a client-credentials token endpoint for az login --service-principal"),
    Rule("W4", "decision", "Any api-version is accepted; responses use the 2024-11-01 shapes"),
    Rule("W5", "wire", "Ids are compared case-insensitively"),
    Rule("W6", "wire", "Writes that take time answer 200/201/202 with Azure-AsyncOperation (POST/DELETE also "
                       "Location); the operation reports InProgress then Succeeded/Failed"),
    Rule("W7", "wire", "Lists return nextLink past the page size"),
    Rule("W8", "wire", "$filter='virtualMachineScaleSet/id' eq '{id}' on the VM list returns a Flexible scale "
                       "set's members"),
    Rule("W9", "wire", "Scale-set actions take an optional {instanceIds}; none, or '*', means every instance"),
    Rule("W10", "decision", "With --lro-seconds 0 writes complete synchronously (200/201, no async headers); "
                            "otherwise in-progress answers carry Retry-After (whole seconds, at least 1) so that "
                            "clients poll at the operation's pace"),
    Rule("A1", "doc/wire", "capacityReservationGroup {} or {id: null} clears an association; capacityReservation "
                           "null or capacityReservationGroup null change nothing; id '' is 400 "
                           "LinkedInvalidPropertyId"),
    Rule("C1", "doc/wire", "virtualMachinesAssociated lists every associated machine; "
                           "utilizationInfo.virtualMachinesAllocated the allocated ones; Uniform instances appear "
                           "as .../virtualMachineScaleSets/{s}/virtualMachines/{instanceId}"),
    Rule("C2", "doc", "Allocation is never refused because a reservation is full: the excess is overallocation"),
    Rule("C3", "doc", "Lowering sku.capacity (to 0 too) always succeeds; only tags and sku.capacity change"),
    Rule("C4", "doc", "Deleting a reservation with associations is 409 OperationNotAllowed; deleting a group with "
                      "reservations is 409 CannotDeleteResource"),
    Rule("P1", "doc", "deallocate releases the hardware, powerOff keeps it, start allocates; the instance view "
                      "reports PowerState/running|stopped|deallocated|starting|deallocating"),
    Rule("P2", "doc", "A started machine associated to a group consumes the matching reservation"),
]


def describe(options):
    return [dict(r._asdict(), enabled=options.rule_overrides.get(r.id, True)) for r in RULES]
