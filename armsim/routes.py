# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""A table of (methods, path regex with named groups, handler); matched case-insensitively."""
import re
from collections import namedtuple

from .errors import MethodNotAllowed
from .server import unknown_route

NAME = r"(?P<{}>[^/]+)"
GROUP_SCOPE = "/resourcegroups/{group}/"

# `in_group`: the path names something inside a resource group, which ARM checks exists first (W11)
Route = namedtuple("Route", "methods regex handler public in_group")


class Routes:
    def __init__(self):
        self.table = []

    def add(self, methods, pattern, handler, public=False, tail=""):
        """`pattern` uses {name} placeholders for one path segment each; `tail` is a raw regex that follows."""
        names = re.findall(r"{(\w+)}", pattern)
        regex = re.escape(pattern)
        for n in names:
            regex = regex.replace(re.escape("{%s}" % n), NAME.format(n))
        self.table.append(Route(set(methods.split()), re.compile("^" + regex + tail + "/?$", re.IGNORECASE),
                                handler, public, GROUP_SCOPE in pattern.lower()))

    def match(self, method, path):
        """(route, named groups) for a request."""
        path_matched = False
        for route in self.table:
            m = route.regex.match(path)
            if not m:
                continue
            if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route, m.groupdict()
            path_matched = True
        if path_matched:
            raise MethodNotAllowed("The requested method {} is not allowed for {}.".format(method, path))
        raise unknown_route(method, path)
