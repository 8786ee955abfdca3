# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Typed ARM errors. Each renders itself as {"error": {"code", "message"}}; the server maps them to HTTP."""


class ArmError(Exception):
    status = 400
    code = "BadRequest"

    def __init__(self, message, rule=None, target=None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.target = target

    def body(self):
        message = self.message
        if self.rule:
            message = "{} (armsim rule {})".format(message, self.rule)
        err = {"code": self.code, "message": message}
        if self.target:
            err["target"] = self.target
        return {"error": err}


class BadRequest(ArmError):
    status, code = 400, "BadRequest"


class InvalidParameter(ArmError):
    status, code = 400, "InvalidParameter"


class InvalidRequestContent(ArmError):
    status, code = 400, "InvalidRequestContent"


class LinkedInvalidPropertyId(ArmError):
    status, code = 400, "LinkedInvalidPropertyId"


class PropertyChangeNotAllowed(ArmError):
    status, code = 409, "PropertyChangeNotAllowed"


class InvalidAuthenticationToken(ArmError):
    status, code = 401, "InvalidAuthenticationToken"


class AuthorizationFailed(ArmError):
    status, code = 403, "AuthorizationFailed"


class ResourceNotFound(ArmError):
    status, code = 404, "ResourceNotFound"


class ResourceGroupNotFound(ArmError):
    status, code = 404, "ResourceGroupNotFound"


class SubscriptionNotFound(ArmError):
    status, code = 404, "SubscriptionNotFound"


class NotFound(ArmError):
    status, code = 404, "NotFound"


class NoRegisteredProviderFound(ArmError):
    status, code = 400, "NoRegisteredProviderFound"


class MethodNotAllowed(ArmError):
    status, code = 405, "MethodNotAllowed"


class OperationNotAllowed(ArmError):
    status, code = 409, "OperationNotAllowed"


class Conflict(ArmError):
    status, code = 409, "Conflict"


class CannotDeleteResource(ArmError):
    status, code = 409, "CannotDeleteResource"


class AllocationFailed(ArmError):  # rule K3: these three end a long-running operation, status as ARO treats them
    status, code = 409, "AllocationFailed"


class ZonalAllocationFailed(ArmError):
    status, code = 409, "ZonalAllocationFailed"


class OverconstrainedAllocationRequest(ArmError):
    status, code = 409, "OverconstrainedAllocationRequest"


class PreconditionFailed(ArmError):
    status, code = 412, "PreconditionFailed"


class InternalServerError(ArmError):
    status, code = 500, "InternalServerError"


NOT_FOUND_MSG = ("The Resource '{type}/{name}' under resource group '{group}' was not found. "
                 "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
GROUP_NOT_FOUND_MSG = "Resource group '{group}' could not be found."


def not_found(rid):
    """The 404 ARM gives for a missing resource, from its parsed id."""
    return ResourceNotFound(NOT_FOUND_MSG.format(type=rid.full_type, name=rid.full_name, group=rid.group))
