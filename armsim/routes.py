"""A table of (methods, path regex with named groups, handler); matched case-insensitively."""
import re

from .errors import MethodNotAllowed
from .server import unknown_route

NAME = r"(?P<{}>[^/]+)"


class Routes:
    def __init__(self):
        self.table = []

    def add(self, methods, pattern, handler, public=False):
        """`pattern` uses {name} placeholders for one path segment each."""
        names = re.findall(r"{(\w+)}", pattern)
        regex = re.escape(pattern)
        for n in names:
            regex = regex.replace(re.escape("{%s}" % n), NAME.format(n))
        self.table.append((set(methods.split()), re.compile("^" + regex + "/?$", re.IGNORECASE), handler, public))

    def match(self, method, path):
        path_matched = False
        for methods, regex, handler, public in self.table:
            m = regex.match(path)
            if not m:
                continue
            if method in methods or (method == "HEAD" and "GET" in methods):
                return handler, m.groupdict(), public
            path_matched = True
        if path_matched:
            raise MethodNotAllowed("The requested method {} is not allowed for {}.".format(method, path))
        raise unknown_route(method, path)
