# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""ARM resource ids: parse, build, compare case-insensitively (rule W5)."""
import re

_ID_RE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<group>[^/]+)"
    r"(?:/providers/(?P<ns>[^/]+)(?P<rest>(?:/[^/]+/[^/]+)+))?/?$", re.IGNORECASE)


class ResourceId:
    """A resource id: subscription, group, provider namespace, and (type, name) pairs."""

    __slots__ = ("sub", "group", "namespace", "types", "names")

    def __init__(self, sub, group, namespace=None, types=(), names=()):
        self.sub, self.group, self.namespace = sub, group, namespace
        self.types, self.names = tuple(types), tuple(names)

    @classmethod
    def parse(cls, text):
        m = _ID_RE.match(text or "")
        if not m:
            return None
        parts = (m.group("rest") or "").strip("/").split("/") if m.group("rest") else []
        return cls(m.group("sub"), m.group("group"), m.group("ns"), parts[0::2], parts[1::2])

    @property
    def name(self):
        return self.names[-1] if self.names else self.group

    @property
    def full_type(self):
        if not self.namespace:
            return "Microsoft.Resources/resourceGroups"
        return "/".join([self.namespace] + list(self.types))

    @property
    def full_name(self):
        return "/".join(self.names)

    @property
    def group_id(self):
        return "/subscriptions/{}/resourceGroups/{}".format(self.sub, self.group)

    @property
    def parent(self):
        if len(self.types) > 1:
            return ResourceId(self.sub, self.group, self.namespace, self.types[:-1], self.names[:-1])
        if self.namespace:
            return ResourceId(self.sub, self.group)
        return None

    def child(self, type_, name):
        return ResourceId(self.sub, self.group, self.namespace, self.types + (type_,), self.names + (name,))

    def __str__(self):
        out = self.group_id
        if self.namespace:
            out += "/providers/" + self.namespace
            for t, n in zip(self.types, self.names):
                out += "/{}/{}".format(t, n)
        return out

    @property
    def key(self):
        return str(self).lower()

    def __eq__(self, other):
        return isinstance(other, ResourceId) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return "ResourceId({})".format(self)


def same_id(a, b):
    """True when two id strings name the same resource (W5: case-insensitive, leading slash optional)."""
    if not a or not b:
        return False
    return "/" + a.strip("/").lower() == "/" + b.strip("/").lower()


def norm_id(text):
    """An id string with a leading slash, for comparing and storing."""
    return "/" + text.strip("/") if text else text
