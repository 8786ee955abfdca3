def load_command_table(self, _):
    from ._client_factory import cf_compute
    from ._format import transform_move_table, transform_status_table
    from ._validators import validate_attach, validate_detach

    with self.command_group('vmss capacity-reservation', client_factory=cf_compute) as g:
        g.custom_show_command('status', 'show_status', table_transformer=transform_status_table)
        g.custom_command('detach', 'detach', validator=validate_detach, table_transformer=transform_move_table)
        g.custom_command('attach', 'attach', validator=validate_attach, table_transformer=transform_move_table)
