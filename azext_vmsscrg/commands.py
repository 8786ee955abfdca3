def load_command_table(self, _):
    from ._client_factory import cf_compute
    from ._format import transform_status_table

    with self.command_group('vmss capacity-reservation', client_factory=cf_compute) as g:
        g.custom_show_command('status', 'show_status', table_transformer=transform_status_table)
