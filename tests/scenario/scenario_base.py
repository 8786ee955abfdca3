# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The one base class of the recorded scenario tests, and the one helper that creates their resources.

Two modes, chosen by AZURE_TEST_RUN_LIVE (the test SDK's switch):

- playback (the default, what `make test` runs): every request is answered from
  `recordings/<test>.yaml`; nothing else is allowed. No simulator, no network, no login: the CLI runs
  with a fresh configuration directory (default cloud AzureCloud, mocked subscription and token), a
  request that is not in the cassette fails, a recorded request that is not sent again fails, and so
  does any attempt to open a socket.
- live (`make record`, or AZURE_TEST_RUN_LIVE=True): the tests run against the ARM endpoint of the
  active cloud of $AZURE_CONFIG_DIR, which is armsim after `source <dir>/env`, or real Azure after
  `az login`, and re-record every cassette. The recording processors below make cassettes
  endpoint-independent: the simulator's host and port become management.azure.com, and
  subscription, tenant and client ids, tokens and sign-in traffic are scrubbed.
"""
import json
import os
import re
import shlex
import socket
import tempfile
from contextlib import contextmanager
from unittest import mock

from azure.cli.testsdk import ScenarioTest
from azure.cli.testsdk.patches import MOCKED_USER_NAME, patch_retrieve_token_for_user
from azure.cli.testsdk.scenario_tests import RecordingProcessor
from azure.cli.testsdk.scenario_tests.config import TestConfig
from azure.cli.testsdk.scenario_tests.const import ENV_LIVE_TEST, MOCKED_SUBSCRIPTION_ID, MOCKED_TENANT_ID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# `make test` exports these; set them when pytest is run directly. The extension directory is read when
# azure.cli.core.extension is first imported, so this must happen before any command runs.
os.environ.setdefault('AZURE_EXTENSION_DIR', os.path.join(ROOT, '.venv', 'cliextensions'))
os.environ.setdefault('AZURE_CORE_COLLECT_TELEMETRY', '0')

PUBLIC_ARM = 'https://management.azure.com'
LOCATION = os.environ.get('VMSSCRG_TEST_LOCATION', 'eastus')
SIZE = 'Standard_D2s_v3'
MOCKED_CLIENT_ID = '00000000-0000-0000-0000-000000000001'
WRITES = ('PUT', 'PATCH', 'POST', 'DELETE')
# Sign-in traffic, wherever the cloud's authority is (the simulator serves it on the ARM host and port).
SIGN_IN = re.compile(r'/oauth2/|/\.well-known/openid-configuration|/common/discovery/instance|/metadata/endpoints'
                     r'|/getuserrealm', re.IGNORECASE)
JWT = re.compile(r'eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+')


# --- the landscape a test starts from (armsim seed format: see armsim/seed.py) -------------------
def crg(name, zones=('1',), sku=SIZE, capacity=10):
    """A capacity reservation group with one reservation per zone (one regional reservation if no zones)."""
    if zones:
        return {'name': name, 'zones': list(zones),
                'reservations': [{'name': 'r' + z, 'sku': sku, 'capacity': capacity, 'zone': z} for z in zones]}
    return {'name': name, 'reservations': [{'name': 'r', 'sku': sku, 'capacity': capacity}]}


def uniform(name, policy='Manual', zones=('1',), capacity=3, group=None, power=None):
    return {'name': name, 'orchestrationMode': 'Uniform', 'upgradePolicy': policy, 'sku': SIZE,
            'capacity': capacity, 'zones': list(zones), 'capacityReservationGroup': group, 'power': power or {}}


def flexible(name, group=None, members=(), profile=False, capacity=0, zones=('1',)):
    spec = {'name': name, 'orchestrationMode': 'Flexible', 'profile': profile, 'members': list(members)}
    if profile:
        spec.update(sku=SIZE, capacity=capacity, zones=list(zones), capacityReservationGroup=group)
    return spec


def member(name, group=None, zone='1', power='running'):
    return {'name': name, 'sku': SIZE, 'zone': zone, 'capacityReservationGroup': group, 'power': power}


# --- recording processors (they run only while recording) -----------------------------------------
class FileBodyReader(RecordingProcessor):
    """The extension sends JSON bodies as streams (execute.py `_bytes`), which vcr keeps as a file and the
    test SDK's processors cannot read (`'BytesIO' object has no attribute 'decode'`). Runs first, and turns
    them into the bytes they hold, so they are scrubbed and stored as text like any other body."""

    def process_request(self, request):
        if getattr(request, '_was_file', False) or getattr(request, '_was_iter', False):
            body = request.body_bytes
            request._was_file = request._was_iter = False  # pylint: disable=protected-access
            request.body = body
        return request


class ArmHostRewriter(RecordingProcessor):
    """The active cloud's ARM endpoint (armsim: https://127.0.0.1:<port>) becomes management.azure.com,
    in URLs, bodies (nextLink, ids) and headers (Location, Azure-AsyncOperation)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip('/')

    def _fix(self, text):
        return text.replace(self.endpoint, PUBLIC_ARM) if isinstance(text, str) else text

    def process_request(self, request):
        request.uri = self._fix(request.uri)
        if isinstance(request.body, bytes) and self.endpoint.encode() in request.body:
            request.body = request.body.replace(self.endpoint.encode(), PUBLIC_ARM.encode())
        return request

    def process_response(self, response):
        response['body']['string'] = self._fix(response['body']['string'])
        for key, values in response['headers'].items():
            response['headers'][key] = [self._fix(v) for v in values]
        return response


class SignInFilter(RecordingProcessor):
    """Sign-in requests (token, OpenID configuration, instance discovery) never reach a cassette."""

    def process_request(self, request):
        return None if SIGN_IN.search(request.path) else request


class SecretScrubber(RecordingProcessor):
    """Replace the recording account's subscription, tenant and client ids anywhere, and any JWT."""

    def __init__(self, replacements):
        self.replacements = [(old, new) for old, new in replacements if old]

    def _fix(self, text):
        if not isinstance(text, str):
            return text
        for old, new in self.replacements:
            text = re.sub(re.escape(old), new, text, flags=re.IGNORECASE)
        return JWT.sub('redacted', text)

    def process_request(self, request):
        request.uri = self._fix(request.uri)
        if isinstance(request.body, bytes):
            try:
                request.body = self._fix(request.body.decode('utf-8')).encode('utf-8')
            except UnicodeDecodeError:
                pass
        return request

    def process_response(self, response):
        response['body']['string'] = self._fix(response['body']['string'])
        for key, values in response['headers'].items():
            response['headers'][key] = [self._fix(v) for v in values]
        return response


class CaseInsensitiveNameReplacer(RecordingProcessor):
    """The test SDK's GeneralNameReplacer is case-sensitive; Azure returns some ids with the resource group
    upper-cased. Replace every spelling of a random name with its moniker, in the same case."""

    def __init__(self, name_replacer):
        self.name_replacer = name_replacer

    def _fix(self, text):
        if not isinstance(text, str):
            return text
        for old, new in self.name_replacer.names_name:
            text = re.sub(re.escape(old), lambda m, new=new: new.upper() if m.group(0).isupper() else new, text,
                          flags=re.IGNORECASE)
        return text

    def process_request(self, request):
        request.uri = self._fix(request.uri)
        return request

    def process_response(self, response):
        response['body']['string'] = self._fix(response['body']['string'])
        for key, values in response['headers'].items():
            response['headers'][key] = [self._fix(v) for v in values]
        return response


# --- playback patches ---------------------------------------------------------------------------
def patch_user_credential(unit_test):
    """azure-cli-testsdk 0.3.0 (the latest on PyPI) mocks the token with an object that has only
    `get_token`; azure-cli-core 2.91's CredentialAdaptor calls `acquire_token(scopes, **kwargs)` and
    expects an MSAL-style dict. This replaces the test SDK's `patch_retrieve_token_for_user`."""

    class UserCredential:  # pylint: disable=too-few-public-methods
        def acquire_token(self, scopes, **kwargs):  # pylint: disable=unused-argument,no-self-use
            return {'access_token': 'playback-token', 'token_type': 'Bearer', 'expires_in': 3600}

    patcher = mock.patch('azure.cli.core.auth.identity.Identity.get_user_credential',
                         lambda *args, **kwargs: UserCredential())
    patcher.start()
    unit_test.addCleanup(patcher.stop)


def patch_no_sockets(unit_test):
    """Playback is offline: any attempt to open a network connection (to the simulator on 127.0.0.1 or
    anywhere else) is refused and fails the test, even if the command swallowed the error."""
    def refuse(sock, address, *args, **kwargs):  # pylint: disable=unused-argument
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            unit_test.sockets_opened.append(address)
            raise ConnectionRefusedError('playback must not open sockets; tried {}'.format(address))
        return original_connect(sock, address)

    original_connect = socket.socket.connect
    for name in ('connect', 'connect_ex'):
        patcher = mock.patch.object(socket.socket, name, refuse)
        patcher.start()
        unit_test.addCleanup(patcher.stop)


def patch_upgrade_polling(unit_test):
    """The executor waits between polls of an upgrade (and between attempts) on an event, so that an interruption
    ends the wait, which the test SDK's `time.sleep` patch does not reach: replayed polls must not wait."""
    for name in ('POLL_FIRST', 'POLL_MAX', 'FIRST_DELAY'):
        patcher = mock.patch('azext_vmsscrg.execute.' + name, 0)
        patcher.start()
        unit_test.addCleanup(patcher.stop)


def _json_body_matcher(r1, r2):
    """Write requests must send the same JSON body as recorded (the test SDK matches method, URL and query
    only)."""
    if r1.method not in WRITES:
        return True
    return _parsed(r1) == _parsed(r2)


def _parsed(request):
    body = request.body_bytes
    if not body:
        return None
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    try:
        return json.loads(body)
    except ValueError:
        return body


_PLAYBACK_CONFIG = {}


def _playback_config_dir():
    """One empty Azure CLI configuration directory per test session: no login, no cloud but AzureCloud, no
    user defaults. The command index built in it on first use speeds up the later tests."""
    if 'dir' not in _PLAYBACK_CONFIG:
        _PLAYBACK_CONFIG['tmp'] = tempfile.TemporaryDirectory(prefix='vmsscrg-playback-')
        _PLAYBACK_CONFIG['dir'] = _PLAYBACK_CONFIG['tmp'].name
    return _PLAYBACK_CONFIG['dir']


class VmssCrgScenarioTest(ScenarioTest):
    """Solves, once, what azure-cli-testsdk 0.3.0 lacks for azure-cli-core 2.91, and records against any
    ARM endpoint (see the module docstring).

    - msrestazure: the test SDK's replay patch `patch_long_run_operation_delay` patches msrestazure, so
      it is in requirements.txt (it also brings msrest, which core imports without declaring it).
    - the token mock: `patch_retrieve_token_for_user` is filtered out of `self.replay_patches` (they are
      merged through a set, so adding ours next to it would race) and replaced by `patch_user_credential`.
    """

    def __init__(self, method_name):
        live = TestConfig().record_mode  # AZURE_TEST_RUN_LIVE
        # The test SDK deletes the cassette in __init__ when live, and pytest instantiates every test it
        # collects, so `-k one_test` would delete the others: hide the switch here, delete in setUp.
        with mock.patch.dict(os.environ):
            os.environ.pop(ENV_LIVE_TEST, None)
            super().__init__(method_name)
        self.is_live = self.in_recording = live
        # Playback only: a missing cassette is an empty one, never a reason to go live.
        self.vcr.record_mode = 'all' if live else 'none'
        if not live:
            with mock.patch.dict(os.environ, {'AZURE_CONFIG_DIR': _playback_config_dir()}):
                self.cli_ctx = type(self.cli_ctx)()
        self.replay_patches = [p for p in self.replay_patches if p is not patch_retrieve_token_for_user]
        self.replay_patches += [patch_user_credential, patch_no_sockets, patch_upgrade_polling]
        self.vcr.register_matcher('json_body', _json_body_matcher)
        self.vcr.match_on = tuple(self.vcr.match_on) + ('json_body',)
        self.sockets_opened = []
        self.body_passed = False

    def setUp(self):
        if self.in_recording:
            if os.path.exists(self.recording_file):
                os.remove(self.recording_file)
            self._add_recording_processors()
        else:
            patcher = mock.patch.dict(os.environ, {'AZURE_CONFIG_DIR': _playback_config_dir()})
            patcher.start()
            self.addCleanup(patcher.stop)
        super().setUp()

    def _callTestMethod(self, method):  # pylint: disable=invalid-name
        # unittest resets its success flag for tearDown; remember whether the test body passed, so that
        # the checks below add no noise to a test that already failed.
        super()._callTestMethod(method)
        self.body_passed = True

    def tearDown(self):
        try:
            if not self.in_recording and self.body_passed:
                self.assertEqual(self.sockets_opened, [], 'playback tried to open sockets')
                unplayed = ['{} {}'.format(r.method, r.uri) for i, r in enumerate(self.cassette.requests)
                            if not self.cassette.play_counts[i]]
                self.assertEqual(unplayed, [], 'recorded requests that the commands no longer send')
        finally:
            # The test SDK's tearDown does `os.environ = self.original_env`, a plain dict copy, after which
            # environment changes no longer reach child processes (the rest of `make test` starts many).
            # Nothing here changes the environment outside mock.patch.dict, so keep the real mapping.
            self.original_env = os.environ
            super().tearDown()

    def _add_recording_processors(self):
        """Appended in order after the test SDK's (which are a set): host, secrets, sign-in, names."""
        from azure.cli.core._profile import Profile
        account = Profile(cli_ctx=self.cli_ctx).get_subscription()
        endpoint = self.cli_ctx.cloud.endpoints.resource_manager
        self.recording_processors.insert(0, FileBodyReader())
        self.recording_processors += [
            SignInFilter(),
            ArmHostRewriter(endpoint),
            SecretScrubber([(account['id'], MOCKED_SUBSCRIPTION_ID), (account['tenantId'], MOCKED_TENANT_ID),
                            (account['user']['name'],
                             MOCKED_USER_NAME if '@' in account['user']['name'] else MOCKED_CLIENT_ID)]),
            CaseInsensitiveNameReplacer(self.name_replacer),
        ]

    # --- writing scenarios ---------------------------------------------------------------------
    def writes_sent(self):
        """The write requests this test's cassette holds (recorded so far, or played back)."""
        return ['{} {}'.format(r.method, r.path) for r in self.cassette.requests if r.method in WRITES]

    @contextmanager
    def not_recorded(self):
        """Requests made inside are sent but never recorded (test set-up); playback never makes them."""
        before, self.disable_recording = self.disable_recording, True
        try:
            yield
        finally:
            self.disable_recording = before

    def create_landscape(self, groups=(), scale_sets=(), vms=()):
        """THE way scenarios create resources: a new resource group (kwargs 'rg') holding capacity reservation
        groups, scale sets and VMs described in armsim's seed format (see the builders above).

        Playback: nothing to do, the resources exist in the recorded answers. Recording against armsim
        ($ARMSIM_DIR, set by `source <dir>/env`): armsim's seeding through its ARM API. Recording against
        Azure: stock `az` commands. Either way the set-up traffic stays out of the cassette.
        """
        self.kwargs['rg'] = self.create_random_name('cli_test_vmsscrg', 30)
        self.kwargs['sub'] = self.get_subscription_id()
        spec = {'location': LOCATION, 'resourceGroups': [{
            'name': self.kwargs['rg'], 'capacityReservationGroups': list(groups), 'scaleSets': list(scale_sets),
            'virtualMachines': list(vms)}]}
        for group in groups:
            self.kwargs[group['name']] = self.group_id(group['name'])
        if not self.in_recording:
            return
        with self.not_recorded():
            if os.environ.get('ARMSIM_DIR'):
                self._seed_armsim(os.environ['ARMSIM_DIR'], spec)
            else:
                self._create_with_az(spec)

    def group_id(self, name, rg=None):
        return '/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/capacityReservationGroups/{}'.format(
            self.kwargs['sub'], rg or self.kwargs['rg'], name)

    def _seed_armsim(self, directory, spec):
        """`python -m armsim seed --dir DIR spec.json`, in process: the simulator's own ARM client."""
        from urllib.parse import urlparse
        from armsim import seed
        from armsim.client import Client
        ours, theirs = urlparse(self.cli_ctx.cloud.endpoints.resource_manager), urlparse(Client(directory).base)
        if (ours.hostname, ours.port) != (theirs.hostname, theirs.port):
            raise AssertionError('ARMSIM_DIR={} is not the simulator that the active cloud ({}) points at: source '
                                 'its env file again.'.format(directory, ours.geturl()))
        with tempfile.NamedTemporaryFile('w', suffix='.json', dir=directory, delete=False) as f:
            json.dump(spec, f)
        try:
            seed.run(directory, f.name)
        finally:
            os.remove(f.name)

    def _create_with_az(self, spec):
        """The same landscape with stock commands in the logged-in subscription; deleted after the test."""
        spec = spec['resourceGroups'][0]
        rg = spec['name']
        az = self._setup_cmd
        az('group create -n {} -l {}', rg, LOCATION)
        self.addCleanup(lambda: self._setup_cmd('group delete -n {} --yes --no-wait', rg))
        for group in spec['capacityReservationGroups']:
            az('capacity reservation group create -g {} -n {} -l {}' + _opt('--zones', group.get('zones')),
               rg, group['name'], LOCATION)
            for r in group['reservations']:
                az('capacity reservation create -g {} -c {} -n {} --sku {} --capacity {}' +
                   _opt('--zone', r.get('zone')), rg, group['name'], r['name'], r['sku'], r['capacity'])
        for ss in spec['scaleSets']:
            args = '-g {} -n {} --orchestration-mode {} --platform-fault-domain-count 1'.format(
                rg, ss['name'], ss['orchestrationMode'])
            if ss['orchestrationMode'] == 'Uniform' or ss.get('profile'):
                args += (' --image Ubuntu2204 --vm-sku {} --instance-count {} --admin-username azureuser '
                         '--generate-ssh-keys --lb-sku Standard').format(ss['sku'], ss['capacity'])
                group = self._group_arg(rg, ss.get('capacityReservationGroup'))
                args += _opt('--zones', ss.get('zones')) + _opt('--capacity-reservation-group', group)
                if ss['orchestrationMode'] == 'Uniform':
                    args += ' --upgrade-policy-mode {} --single-placement-group false'.format(ss['upgradePolicy'])
            az('vmss create ' + args)
            for vm in ss.get('members', []):
                self._create_vm(rg, vm, ss['name'])
            for instance, state in sorted((ss.get('power') or {}).items()):
                verb = {'deallocated': 'deallocate', 'stopped': 'stop'}[state]
                az('vmss {} -g {} -n {} --instance-ids {}', verb, rg, ss['name'], instance)
        for vm in spec['virtualMachines']:
            self._create_vm(rg, vm)

    def _create_vm(self, rg, vm, scale_set=None):
        self._setup_cmd('vm create -g {} -n {} --image Ubuntu2204 --size {} --admin-username azureuser '
                        '--generate-ssh-keys --public-ip-address "" --nsg-rule NONE' +
                        _opt('--zone', vm.get('zone')) + _opt('--vmss', scale_set) +
                        _opt('--capacity-reservation-group', self._group_arg(rg, vm.get('capacityReservationGroup'))),
                        rg, vm['name'], vm.get('sku', SIZE))
        state = vm.get('power', 'running')
        if state != 'running':
            self._setup_cmd('vm {} -g {} -n {}', {'deallocated': 'deallocate', 'stopped': 'stop'}[state], rg,
                            vm['name'])

    def _group_arg(self, rg, group):
        return group if not group or group.startswith('/') else self.group_id(group, rg)

    def _setup_cmd(self, template, *args):
        with self.not_recorded():
            return self.cmd(template.format(*[shlex.quote(str(a)) for a in args]).replace('{', '{{')
                            .replace('}', '}}'))


def _opt(flag, value):
    if not value:
        return ''
    values = value if isinstance(value, (list, tuple)) else [value]
    return ' {} {}'.format(flag, ' '.join(shlex.quote(str(v)) for v in values))
