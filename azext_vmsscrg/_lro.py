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


def _retry_after(pipeline_response):
    value = pipeline_response.http_response.headers.get('Retry-After')
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: leave it to azure-core
        return None
