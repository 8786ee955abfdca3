# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Which failures are worth another attempt: one table, Azure's error code first, the HTTP status second.

TRANSIENT: sent again after a backoff that honours Retry-After. PERMANENT: the run stops at once, undoes what
it took down, and says what to fix. CAPACITY: the region or zone has no room for the machine now; a start that
meets it is retried for a bounded time before anything else is tried.
"""
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

TRANSIENT = 'transient'
PERMANENT = 'permanent'
CAPACITY = 'capacity'

# Azure error code (lower case) -> kind. Codes not listed fall back to STATUSES.
CODES = {
    'allocationfailed': CAPACITY,
    'zonalallocationfailed': CAPACITY,
    'overconstrainedallocationrequest': CAPACITY,
    'overconstrainedzonalallocationrequest': CAPACITY,
    'conflict': TRANSIENT,  # a concurrent request on the same resource
    'operationpreempted': TRANSIENT,  # superseded by a more recent operation
    'internalexecutionerror': TRANSIENT,
    'internalservererror': TRANSIENT,
    'serviceunavailable': TRANSIENT,
    'gatewaytimeout': TRANSIENT,
    'retryableerror': TRANSIENT,
    'toomanyrequests': TRANSIENT,
    'subscriptionrequeststhrottled': TRANSIENT,
    'preconditionfailed': TRANSIENT,  # the resource changed since it was read: read it again, send again
    # Azure answers OperationNotAllowed both for a rule that refuses the request and for an operation already in
    # progress; only the second (IN_PROGRESS below) is transient.
    'operationnotallowed': PERMANENT,
    'invalidparameter': PERMANENT,
    'badrequest': PERMANENT,
    'linkedinvalidpropertyid': PERMANENT,
    'authorizationfailed': PERMANENT,
    'linkedauthorizationfailed': PERMANENT,
    'requestdisallowedbypolicy': PERMANENT,
    'resourcenotfound': PERMANENT,
    'notfound': PERMANENT,
    'quotaexceeded': PERMANENT,
    'operationnotallowedbyquota': PERMANENT,
}
IN_PROGRESS = ('another operation is in progress', 'operation is in progress', 'is being updated')
# HTTP status -> kind, for codes not in CODES. A 2xx status is a long-running operation that ended Failed.
STATUSES = {408: TRANSIENT, 409: TRANSIENT, 412: TRANSIENT, 429: TRANSIENT}


def classify(ex):
    """TRANSIENT, PERMANENT or CAPACITY for an exception raised by the SDK (anything else is PERMANENT)."""
    if isinstance(ex, (ServiceRequestError, ServiceResponseError)):
        return TRANSIENT
    if not isinstance(ex, HttpResponseError):
        return PERMANENT
    code = (error_code(ex) or '').lower()
    kind = CODES.get(code)
    if kind == PERMANENT and code == 'operationnotallowed' and any(
            hint in (error_message(ex) or '').lower() for hint in IN_PROGRESS):
        return TRANSIENT
    if kind:
        return kind
    status = ex.status_code
    if status is None or status < 400 or status >= 500:
        return TRANSIENT
    return STATUSES.get(status, PERMANENT)


def answer_lost(ex):
    """The request may have reached Azure and taken effect although no answer came back."""
    return isinstance(ex, ServiceResponseError)


def retry_after(ex):
    """Seconds Azure asked to wait (Retry-After), or None."""
    response = getattr(ex, 'response', None)
    value = response.headers.get('Retry-After') if response is not None and response.headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def error_code(ex):
    error = getattr(ex, 'error', None)
    return getattr(error, 'code', None) if error is not None else None


def error_message(ex):
    error = getattr(ex, 'error', None)
    if error is not None and getattr(error, 'message', None):
        return error.message
    return str(ex).splitlines()[0] if str(ex) else type(ex).__name__


def describe(ex):
    code = error_code(ex)
    return f'{code}: {error_message(ex)}' if code else error_message(ex)


def refused(ex):
    """A StepFailed (or SDK error) that is Azure refusing the request by rule (409 OperationNotAllowed), not a
    transient conflict: the caller may take another documented path."""
    cause = ex if isinstance(ex, HttpResponseError) else getattr(ex, '__cause__', None)
    return isinstance(cause, HttpResponseError) and classify(cause) == PERMANENT and \
        (error_code(cause) or '').lower() == 'operationnotallowed'
