"""The durable record of which members were running before a run disrupted them.

It is written before the first disruptive step and removed when a run ends well, so that a run
killed at any moment can be re-run and still start again every member that was running before the
first run. It lives in the Azure CLI configuration directory ($AZURE_CONFIG_DIR, ~/.azure by
default; in Cloud Shell that is kept across sessions), as
vmsscrg/journal/<subscription>/<resource group>/<scale set>.json (all lower case).
"""
import datetime
import json
import os

from .snapshot import normalize_id


class Journal:
    def __init__(self, config_dir, scale_set_id):
        parts = normalize_id(scale_set_id).strip('/').split('/')
        self.path = os.path.join(config_dir, 'vmsscrg', 'journal', parts[1], parts[3], parts[-1] + '.json')
        self.scale_set_id = scale_set_id

    def load(self):
        """The members recorded as running, or an empty set when there is no record."""
        try:
            with open(self.path, encoding='utf-8') as f:
                return frozenset(json.load(f).get('running', ()))
        except (OSError, ValueError):
            return frozenset()

    def save(self, action, running):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        record = {'scaleSet': self.scale_set_id, 'action': action, 'running': sorted(running),
                  'saved': datetime.datetime.now(datetime.timezone.utc).isoformat()}
        tmp = self.path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def clear(self):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
