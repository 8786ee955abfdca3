# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""The durable record of a run's intent: what it set out to do, and which members it took down.

It is written before the first deallocation (and again before each one) and removed when a run ends well, so
that a run killed at any moment can be finished: `status` shows it, and the same command again starts again
every member that was running before the first run. It lives in the Azure CLI configuration directory
($AZURE_CONFIG_DIR, ~/.azure by default; in Cloud Shell that is kept across sessions), as
vmsscrg/journal/<subscription>/<resource group>/<scale set>.json (all lower case).

A record for another action or group than the command's, or older than MAX_AGE, is reported and not applied:
someone may have deallocated those machines on purpose since.
"""
import datetime
import json
import os
from dataclasses import dataclass, field
from typing import FrozenSet, Mapping, Optional, Tuple

from .snapshot import normalize_id, same_id

MAX_AGE = datetime.timedelta(days=7)


@dataclass(frozen=True)
class Record:  # pylint: disable=too-many-instance-attributes  # one field per fact a re-run needs
    action: str
    group_id: Optional[str]  # attach: the target group
    started: datetime.datetime
    running: FrozenSet[str] = field(default_factory=frozenset)  # members running before the run, to start again
    deallocated: FrozenSet[str] = field(default_factory=frozenset)  # members the run sent a deallocation for
    # the group each member (and, under the scale set id, the model) was on before the first run: where a member
    # that finds no capacity goes back to
    origins: Mapping[str, str] = field(default_factory=dict)
    members: FrozenSet[str] = field(default_factory=frozenset)  # a group-wide run: the scale sets and VMs it covers
    capacities: Tuple[Tuple[str, int], ...] = ()  # zero-capacity: (reservation id, its capacity before the run)

    def age(self, now=None):
        return (now or _now()) - self.started

    def applies_to(self, action, group_id, now=None):
        """None when this record belongs to a command (action, group) and is fresh; else why it does not."""
        if self.action != action or (action == 'attach' and not same_id(self.group_id, group_id)):
            return f'it is for {self.describe()}'
        if self.age(now) > MAX_AGE:
            return f'it is {self.age(now).days} days old'
        return None

    def describe(self):
        return (f"{self.action}{(f' to {self.group_id}' if self.group_id else '')} started "
                f"{self.started.isoformat(timespec='seconds')}")

    def to_dict(self):
        return {'action': self.action, 'capacityReservationGroup': self.group_id,
                'started': self.started.isoformat(), 'running': sorted(self.running),
                'deallocated': sorted(self.deallocated), 'origins': dict(sorted(self.origins.items())),
                'previousCapacities': dict(self.capacities),
                **({'members': sorted(self.members)} if self.members else {})}


class Journal:
    def __init__(self, config_dir, scale_set_id, name=None):
        """`name`: the file name without .json, when the record is not a scale set's (group.py)."""
        parts = normalize_id(scale_set_id).strip('/').split('/')
        self.path = os.path.join(config_dir, 'vmsscrg', 'journal', parts[1], parts[3],
                                 f"{(name or parts[-1]).lower()}.json")
        self.scale_set_id = scale_set_id

    def load(self):
        """The record, or None when there is none (or it cannot be read)."""
        try:
            with open(self.path, encoding='utf-8') as f:
                data = json.load(f)
            return Record(action=data['action'], group_id=data.get('capacityReservationGroup'),
                          started=datetime.datetime.fromisoformat(data.get('started') or data['saved']),
                          running=frozenset(data.get('running', ())),
                          deallocated=frozenset(data.get('deallocated', ())),
                          origins=dict(data.get('origins') or {}),
                          members=frozenset(data.get('members', ())),
                          capacities=tuple(sorted((data.get('previousCapacities') or {}).items())))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, record):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        data = dict(record.to_dict(), scaleSet=self.scale_set_id, saved=_now().isoformat())
        tmp = f"{self.path}.tmp"
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def clear(self):
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def new_record(intent, running, started=None, origins=None):
    return Record(intent.action, intent.group_id, started or _now(), frozenset(running), origins=dict(origins or {}))


def _now():
    return datetime.datetime.now(datetime.timezone.utc)
