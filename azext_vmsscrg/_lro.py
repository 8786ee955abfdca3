# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Long-running operations polled at the pace Azure asks for.

azure-core's ARM poller reads an operation's status as soon as the operation is accepted, although the
answer already says it is in progress and, in Retry-After, when to ask again; and after a POST action it
reads the Location URL once more for a result that actions such as start or deallocate do not have. With a
few hundred operations in flight, both double the requests without telling anything new.
"""
from azure.core.exceptions import HttpResponseError
from azure.core.polling.base_polling import BadStatus, OperationFailed
from azure.mgmt.core.polling.arm_polling import ARMPolling

POLLING_INTERVAL = 30  # seconds between polls when Azure sends no Retry-After: the compute SDK's default
FINAL_VIA_STATUS = {'final-state-via': 'azure-async-operation'}


class _Polling(ARMPolling):
    """ARM polling whose first status read waits for the accepting answer's Retry-After, as later ones do.
    Without a Retry-After it reads at once, as azure-core does."""

    def run(self):
        if not self.finished() and _retry_after(self._pipeline_response) is not None:
            self._delay()  # through the transport's sleep, which the test SDK's playback patches
        super().run()


def polling(action=False):
    """A polling method for one operation. `action`: a POST without a result (start, deallocate,
    manualupgrade), whose final status is enough."""
    return _Polling(POLLING_INTERVAL, lro_options=FINAL_VIA_STATUS if action else None)


class Accepted(ARMPolling):
    """An operation's accepting answer, kept and not polled: a batch of Flexible members is watched in one list of
    the members instead (execute.py). `check()` reads the operation's status, for the member whose list entry
    looks wrong: Azure's error code is only there."""

    def __init__(self, action=False):
        super().__init__(POLLING_INTERVAL, lro_options=FINAL_VIA_STATUS if action else None)
        self._checking = False

    def finished(self):
        return super().finished() if self._checking else True  # the SDK's poller starts no thread

    def retry_after(self):
        """The accepting answer's Retry-After in seconds, or None."""
        return _retry_after(self._pipeline_response)

    def check(self):
        """Read the status once (unless the answer was final). True when the operation succeeded, False while it
        runs; when it failed, the HttpResponseError the SDK's poller raises, with Azure's error."""
        self._checking = True
        response = self._pipeline_response.http_response
        try:
            if not super().finished():
                self.update_status()
                response = self._pipeline_response.http_response
            if self.status().lower() in ('failed', 'canceled'):
                raise OperationFailed('Operation failed or canceled')
        except (BadStatus, OperationFailed) as err:
            raise HttpResponseError(response=response if isinstance(err, BadStatus) else
                                    self._pipeline_response.http_response, error=err) from err
        return super().finished()


def _retry_after(pipeline_response):
    value = pipeline_response.http_response.headers.get('Retry-After')
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: leave it to azure-core
        return None
