# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Playback is offline: the CLI under test runs with the default cloud, an empty configuration directory
and no login, and cannot open a socket (to the simulator on 127.0.0.1 or anywhere else)."""
import os
import socket
from urllib.parse import urlparse

from scenario_base import PUBLIC_ARM, VmssCrgScenarioTest, crg, uniform


class OfflinePlaybackTest(VmssCrgScenarioTest):

    def test_playback_is_offline(self):
        self.create_landscape(groups=[crg('g1')], scale_sets=[uniform('u', group='g1', capacity=1)])
        if not self.in_recording:
            self.assertEqual(self.cli_ctx.cloud.name, 'AzureCloud')
            self.assertEqual(self.cli_ctx.cloud.endpoints.resource_manager.rstrip('/'), PUBLIC_ARM)
            config_dir = self.cli_ctx.config.config_dir
            self.assertEqual(os.environ['AZURE_CONFIG_DIR'], config_dir)
            self.assertFalse({'clouds.config', 'msal_token_cache.json', 'service_principal_entries.json'} &
                             set(os.listdir(config_dir)), 'the playback configuration has a login or a cloud')
            with self.assertRaisesRegex(ConnectionRefusedError, 'playback must not open sockets'):
                socket.create_connection(('127.0.0.1', 9), timeout=1)
            self.assertEqual(self.sockets_opened, [('127.0.0.1', 9)])
            self.sockets_opened.clear()  # that one was ours; tearDown fails on any other

        self.cmd('vmss capacity-reservation status -g {rg} -n u', checks=[
            self.check('state', 'attached'),
            self.check('summary.instances', 1),
        ])
        self.assertEqual({urlparse(r.uri).netloc for r in self.cassette.requests}, {'management.azure.com'})
