# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
import json
import os


def is_preview():
    """The command group is marked preview while the extension is ("azext.isPreview", kept true while the version in
    setup.py is a beta; tests/unit/test_loader.py checks that the two agree)."""
    with open(os.path.join(os.path.dirname(__file__), 'azext_metadata.json'), encoding='utf-8') as f:
        return bool(json.load(f).get('azext.isPreview'))


def load_command_table(self, _):
    from ._client_factory import cf_compute
    from ._format import transform_move_table, transform_status_table
    from ._validators import validate_attach, validate_detach, validate_status

    with self.command_group('vmss capacity-reservation', client_factory=cf_compute, is_preview=is_preview()) as g:
        g.custom_show_command('status', 'show_status', validator=validate_status,
                              table_transformer=transform_status_table)
        g.custom_command('detach', 'detach', validator=validate_detach, table_transformer=transform_move_table)
        g.custom_command('attach', 'attach', validator=validate_attach, table_transformer=transform_move_table)
