# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""`azdev`, with every HTTP request it makes answered 503 at once instead of leaving the machine.

azdev 0.2.13 fetches two configuration files and checks help links over the network. On a 503 it does what it does
when the service is down: the linter's example-count thresholds come from the copy bundled with azdev, the
test-coverage patterns from <azure-cli repo>/scripts/ci/cmdcov.yml (.ci/azdev.sh provides it), and a help link it
cannot reach is reported as broken, never passed. Run by .ci/azdev.sh."""
import sys

from requests.adapters import HTTPAdapter
from requests.models import Response


def unavailable(self, request, *args, **kwargs):  # pylint: disable=unused-argument
    response = Response()
    response.status_code, response.reason, response.url, response.request = 503, 'offline', request.url, request
    response._content = b''  # pylint: disable=protected-access
    return response


HTTPAdapter.send = unavailable

if __name__ == '__main__':
    from azdev.__main__ import main
    sys.argv[0] = 'azdev'
    main()
