# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""ARM template expressions: parse `[...]` strings and evaluate them with a table of template functions.

A known subset of the template language (https://learn.microsoft.com/azure/azure-resource-manager/templates/
template-functions): what `az vm create`, `az vmss create` and the capacity reservation documents' templates use,
and the common functions around them. A function not in FUNCTIONS is an error that names it, never a guess.
Knows nothing of HTTP or the store: the caller's `Scope` answers parameters, variables, reference() and the
deployment's subscription and group.
"""
import base64
import hashlib
import json
import re
import uuid


class TemplateError(Exception):
    """A template that cannot be evaluated; the message says what and where."""


# --- parsing -----------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>[().,\[\]]))")


def is_expression(value):
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise TemplateError("The template language expression '{}' is not valid: unexpected '{}' at "
                                "position {}.".format(text, text[pos:].strip()[:10], pos))
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "num":
            value = int(value)
        out.append((kind, value))
    return out


class _Parser:
    """expr := primary ( '.' name | '[' expr ']' )* ; primary := string | number | name '(' args ')'"""

    def __init__(self, text):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0

    def fail(self, why):
        raise TemplateError("The template language expression '{}' is not valid: {}.".format(self.text, why))

    def peek(self, value=None):
        if self.i >= len(self.tokens):
            return None
        tok = self.tokens[self.i]
        if value is not None and not (tok[0] == "op" and tok[1] == value):
            return None
        return tok

    def take(self, value=None):
        tok = self.peek(value)
        if tok is None:
            self.fail("expected '{}'".format(value) if value else "unexpected end")
        self.i += 1
        return tok

    def parse(self):
        node = self.expr()
        if self.i != len(self.tokens):
            self.fail("unexpected '{}'".format(self.tokens[self.i][1]))
        return node

    def expr(self):
        kind, value = self.take()
        if kind in ("str", "num"):
            node = ("lit", value)
        elif kind == "name":
            self.take("(")
            args = []
            if not self.peek(")"):
                args.append(self.expr())
                while self.peek(","):
                    self.take(",")
                    args.append(self.expr())
            self.take(")")
            node = ("call", value, args)
        else:
            self.fail("unexpected '{}'".format(value))
        while True:
            if self.peek("."):
                self.take(".")
                kind, value = self.take()
                if kind != "name":
                    self.fail("a property name must follow '.'")
                node = ("prop", node, value)
            elif self.peek("["):
                self.take("[")
                index = self.expr()
                self.take("]")
                node = ("index", node, index)
            else:
                return node


def parse(text):
    """The syntax tree of one `[...]` expression."""
    return _Parser(text[1:-1]).parse()


def functions_used(node, out=None):
    """Every function name a syntax tree calls."""
    out = set() if out is None else out
    if node[0] == "call":
        out.add(node[1])
        for arg in node[2]:
            functions_used(arg, out)
    elif node[0] in ("prop", "index"):
        functions_used(node[1], out)
        if node[0] == "index":
            functions_used(node[2], out)
    return out


def check(value, where):
    """Parse every expression in a JSON value and check each function is known (before anything is created)."""
    if is_expression(value):
        try:
            names = functions_used(parse(value))
        except TemplateError as e:
            raise TemplateError("{} ({})".format(e, where))
        unknown = sorted(n for n in names if n.lower() not in FUNCTIONS)
        if unknown:
            raise TemplateError("The template function '{}' at '{}' is not supported by armsim. Supported: {}."
                                .format(unknown[0], where, ", ".join(sorted(FUNCTIONS))))
    elif isinstance(value, dict):
        for k, v in value.items():
            check(v, "{}.{}".format(where, k))
    elif isinstance(value, list):
        for n, v in enumerate(value):
            check(v, "{}[{}]".format(where, n))


def referenced(value, scope):
    """What the reference() calls in a JSON value name (their first argument, evaluated): ARM makes each an
    implicit dependency."""
    out = []
    if is_expression(value):
        stack = [parse(value)]
        while stack:
            node = stack.pop()
            if node[0] == "call":
                if node[1].lower() == "reference" and node[2]:
                    out.append(_eval(node[2][0], scope))
                stack.extend(node[2])
            elif node[0] in ("prop", "index"):
                stack.extend(node[1:2] + (node[2:3] if node[0] == "index" else ()))
    elif isinstance(value, dict):
        for v in value.values():
            out.extend(referenced(v, scope))
    elif isinstance(value, list):
        for v in value:
            out.extend(referenced(v, scope))
    return out


# --- evaluation --------------------------------------------------------------------------------
def evaluate(value, scope):
    """A JSON value with every expression in it evaluated."""
    if is_expression(value):
        return _eval(parse(value), scope)
    if isinstance(value, str) and value.startswith("[["):
        return value[1:]
    if isinstance(value, dict):
        return {k: evaluate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, scope) for v in value]
    return value


def _eval(node, scope):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "prop":
        target = _eval(node[1], scope)
        return _member(target, node[2])
    if kind == "index":
        target, index = _eval(node[1], scope), _eval(node[2], scope)
        if isinstance(target, list) and isinstance(index, int):
            if not -len(target) <= index < len(target):
                raise TemplateError("The index {} is out of range for an array of {}.".format(index, len(target)))
            return target[index]
        return _member(target, index)
    name = node[1].lower()
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise TemplateError("The template function '{}' is not supported by armsim.".format(node[1]))
    if name in LAZY:
        return fn(scope, *node[2])
    return fn(scope, *[_eval(a, scope) for a in node[2]])


def _member(target, key):
    if isinstance(target, dict):
        for k, v in target.items():
            if k.lower() == str(key).lower():
                return v
        raise TemplateError("The language expression property '{}' doesn't exist, available properties are '{}'."
                            .format(key, ", ".join(target)))
    raise TemplateError("The language expression property '{}' can't be read from a value of type {}."
                        .format(key, type(target).__name__))


# --- the functions -------------------------------------------------------------------------------
def _if(scope, cond, yes, no):
    return _eval(yes, scope) if _truthy(_eval(cond, scope)) else _eval(no, scope)


def _truthy(value):
    if not isinstance(value, bool):
        raise TemplateError("The template function 'if' expects a boolean condition, got '{}'.".format(value))
    return value


def _concat(scope, *args):
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(_text(a) for a in args)


def _text(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def _format(scope, fmt, *args):
    def sub(m):
        n = int(m.group(1))
        if n >= len(args):
            raise TemplateError("The format '{}' names argument {} but {} were given.".format(fmt, n, len(args)))
        return _text(args[n])
    return re.sub(r"\{(\d+)(?::[^}]*)?\}", sub, fmt.replace("{{", "\0").replace("}}", "\1")) \
        .replace("\0", "{").replace("\1", "}")


def _resource_id(scope, *args):
    """resourceId([subscriptionId], [resourceGroupName], resourceType, name1, [name2], ...)"""
    type_at = next((i for i, a in enumerate(args) if isinstance(a, str) and "/" in a and "." in a.split("/")[0]), None)
    if type_at is None or type_at > 2:
        raise TemplateError("The template function 'resourceId' needs a resource type ('Namespace/type') among "
                            "its first three arguments; got {}.".format(list(args)))
    sub, group = scope.subscription_id, scope.group_name
    if type_at == 1:
        group = args[0]
    elif type_at == 2:
        sub, group = args[0], args[1]
    parts = args[type_at].split("/")
    names = [str(a) for a in args[type_at + 1:]]
    types = parts[1:]
    if len(names) != len(types):
        raise TemplateError("Unable to evaluate template language function 'resourceId': the type '{}' requires {} "
                            "resource name argument(s).".format(args[type_at], len(types)))
    out = "/subscriptions/{}/resourceGroups/{}/providers/{}".format(sub, group, parts[0])
    for t, n in zip(types, names):
        out += "/{}/{}".format(t, n)
    return out


def _unique_string(scope, *args):
    """13 characters from a hash of the arguments (deterministic, as ARM's)."""
    digest = hashlib.sha256("-".join(_text(a) for a in args).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13]


def _guid(scope, *args):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "-".join(_text(a) for a in args)))


def _substring(scope, text, start=0, length=None):
    if start < 0 or start > len(text) or (length is not None and (length < 0 or start + length > len(text))):
        raise TemplateError("The index and length parameters of 'substring' must refer to a location within the "
                            "string '{}'.".format(text))
    return text[start:] if length is None else text[start:start + length]


def _length(scope, value):
    return len(value)


def _empty(scope, value):
    return value is None or len(value) == 0


def _contains(scope, container, item):
    if isinstance(container, dict):
        return any(k.lower() == str(item).lower() for k in container)
    if isinstance(container, str):
        return str(item).lower() in container.lower()
    return item in container


def _union(scope, *args):
    if all(isinstance(a, dict) for a in args):
        out = {}
        for a in args:
            out.update(a)
        return out
    out = []
    for a in args:
        out.extend(x for x in a if x not in out)
    return out


def _to_int(scope, value):
    return int(value)


def _to_bool(scope, value):
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _json(scope, text):
    return json.loads(text)


def _uri(scope, base, relative):
    from urllib.parse import urljoin
    return urljoin(base, relative)


def _providers(scope, namespace, type_=None):
    return scope.provider(namespace, type_)


def _reference(scope, target, api_version=None, full=None):
    return scope.reference(target, full is not None and str(full).lower() == "full")


FUNCTIONS = {
    "parameters": lambda scope, name: scope.parameter(name),
    "variables": lambda scope, name: scope.variable(name),
    "reference": _reference,
    "resourceid": _resource_id,
    "providers": _providers,
    "resourcegroup": lambda scope: scope.resource_group(),
    "subscription": lambda scope: scope.subscription(),
    "deployment": lambda scope: scope.deployment(),
    "concat": _concat,
    "format": _format,
    "if": _if,
    "equals": lambda scope, a, b: a == b,
    "not": lambda scope, a: not a,
    "and": lambda scope, *a: all(a),
    "or": lambda scope, *a: any(a),
    "greater": lambda scope, a, b: a > b,
    "less": lambda scope, a, b: a < b,
    "greaterorequals": lambda scope, a, b: a >= b,
    "lessorequals": lambda scope, a, b: a <= b,
    "true": lambda scope: True,
    "false": lambda scope: False,
    "null": lambda scope: None,
    "tolower": lambda scope, s: s.lower(),
    "toupper": lambda scope, s: s.upper(),
    "trim": lambda scope, s: s.strip(),
    "substring": _substring,
    "replace": lambda scope, s, old, new: s.replace(old, new),
    "split": lambda scope, s, sep: s.split(sep) if isinstance(sep, str) else re.split("|".join(map(re.escape, sep)), s),
    "startswith": lambda scope, s, p: s.lower().startswith(p.lower()),
    "endswith": lambda scope, s, p: s.lower().endswith(p.lower()),
    "indexof": lambda scope, s, p: s.lower().find(p.lower()),
    "uniquestring": _unique_string,
    "guid": _guid,
    "length": _length,
    "empty": _empty,
    "contains": _contains,
    "coalesce": lambda scope, *a: next((x for x in a if x is not None), None),
    "first": lambda scope, a: a[0] if a else None,
    "last": lambda scope, a: a[-1] if a else None,
    "take": lambda scope, a, n: a[:n],
    "skip": lambda scope, a, n: a[n:],
    "union": _union,
    "createarray": lambda scope, *a: list(a),
    "array": lambda scope, a: a if isinstance(a, list) else [a],
    "createobject": lambda scope, *a: {a[i]: a[i + 1] for i in range(0, len(a), 2)},
    "string": lambda scope, a: _text(a),
    "int": _to_int,
    "bool": _to_bool,
    "json": _json,
    "base64": lambda scope, s: base64.b64encode(s.encode()).decode(),
    "uri": _uri,
    "add": lambda scope, a, b: a + b,
    "sub": lambda scope, a, b: a - b,
    "mul": lambda scope, a, b: a * b,
    "div": lambda scope, a, b: int(a / b),
    "mod": lambda scope, a, b: a % b,
    "min": lambda scope, *a: min(a[0] if len(a) == 1 and isinstance(a[0], list) else a),
    "max": lambda scope, *a: max(a[0] if len(a) == 1 and isinstance(a[0], list) else a),
    "range": lambda scope, start, count: list(range(start, start + count)),
}
LAZY = {"if"}
