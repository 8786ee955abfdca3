# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""What the cassettes must never hold (Authorization headers, tokens, keys, secrets, the simulator's
address), and that each belongs to a test. Run offline on every `make test`; `make record` runs it again
with the recording simulator's $ARMSIM_DIR, to look for that simulator's own port, ids and secret too."""
import glob
import json
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CASSETTES = sorted(glob.glob(os.path.join(HERE, 'recordings', '*.yaml')))
ZERO = '00000000-0000-0000-0000-000000000000'
GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
FORBIDDEN = {
    'an Authorization header': re.compile(r'^\s*[\'"]?authorization[\'"]?\s*:', re.IGNORECASE | re.MULTILINE),
    'a bearer token': re.compile(r'bearer\s+[\w.~+/-]{8,}', re.IGNORECASE),
    'a JWT': re.compile(r'eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.'),
    'a token field': re.compile(r'access_token|refresh_token|id_token|client_assertion', re.IGNORECASE),
    'a client secret': re.compile(r'client_secret|clientSecret|"password"\s*:', re.IGNORECASE),
    'a private key or certificate': re.compile(r'-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----'),
    'the simulator host': re.compile(r'127\.0\.0\.1|localhost|\[::1\]', re.IGNORECASE),
    'a URL with a port': re.compile(r'https?://[^/\s\'"]+:\d+'),
    'a subscription id': re.compile(r'/subscriptions/(?!{}){}'.format(ZERO, GUID), re.IGNORECASE),
    'a tenant id': re.compile(r'(tenants/|"tenantId"\s*:\s*"|"tid"\s*:\s*")(?!{}){}'.format(ZERO, GUID),
                              re.IGNORECASE),
    'sign-in traffic': re.compile(r'/oauth2/|openid-configuration|/discovery/instance', re.IGNORECASE),
}

pytestmark = pytest.mark.skipif(os.environ.get('AZURE_TEST_RUN_LIVE', '').lower() == 'true',
                                reason='the cassettes are being re-recorded')


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def test_there_are_cassettes():
    assert len(CASSETTES) >= 8, CASSETTES


@pytest.mark.parametrize('path', CASSETTES, ids=os.path.basename)
def test_cassette_holds_no_secret(path):
    text = _read(path)
    found = {what: pattern.search(text).group(0) for what, pattern in FORBIDDEN.items() if pattern.search(text)}
    assert found == {}
    assert set(re.findall(r'^\s+uri: (https://[^/]+)/', text, re.MULTILINE)) == {'https://management.azure.com'}


@pytest.mark.skipif(not os.environ.get('ARMSIM_DIR'), reason='only right after recording, with $ARMSIM_DIR')
@pytest.mark.parametrize('path', CASSETTES, ids=os.path.basename)
def test_cassette_holds_nothing_of_the_recording_simulator(path):
    directory = os.environ['ARMSIM_DIR']
    with open(os.path.join(directory, 'config.json')) as f:
        config = json.load(f)
    with open(os.path.join(directory, 'port')) as f:
        port = f.read().strip()
    with open(os.path.join(directory, 'cert.pem')) as f:
        certificate_line = f.read().splitlines()[1]
    secrets = {'subscription': config['subscription_id'], 'tenant': config['tenant_id'],
               'client id': config['client_id'], 'client secret': config['client_secret'],
               'port': ':' + port, 'certificate': certificate_line}
    text = _read(path).lower()
    assert [what for what, value in secrets.items() if value.lower() in text] == []


WRITE = re.compile(r'^\s+method: (PUT|PATCH|POST|DELETE)$', re.MULTILINE)
POLL = re.compile(r'^\s+uri: https://management\.azure\.com/subscriptions/[^/]+/providers/Microsoft\.Compute/'
                  r'locations/[^/]+/operations/', re.MULTILINE | re.IGNORECASE)


ACCEPTED = re.compile(r'^\s+azure-asyncoperation:\n\s+- https://management\.azure\.com/subscriptions/[^/]+/'
                      r'providers/Microsoft\.Compute/locations/[^/]+/operations/', re.MULTILINE | re.IGNORECASE)


@pytest.mark.parametrize('path', CASSETTES, ids=os.path.basename)
def test_every_cassette_that_writes_got_long_running_operations(path):
    """Azure answers writes as long-running operations, and so does the simulator a cassette is recorded
    against: a cassette with a write and neither an accepting answer naming its operation nor a poll of it was
    recorded against a synchronous shortcut. (A Flexible batch keeps the accepting answers and watches its
    members in one list instead of polling each operation.)"""
    text = _read(path)
    assert not WRITE.search(text) or POLL.search(text) or ACCEPTED.search(text), \
        'a write and no long-running operation: re-record'


def test_every_cassette_belongs_to_a_test():
    names = set()
    for test_file in glob.glob(os.path.join(HERE, 'test_scenario_*.py')):
        names |= set(re.findall(r'^    def (test_\w+)\(self', _read(test_file), re.MULTILINE))
    stale = [os.path.basename(p) for p in CASSETTES if os.path.basename(p)[:-len('.yaml')] not in names]
    assert stale == [], 'cassettes of tests that no longer exist; delete them'
