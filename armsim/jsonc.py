# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""JSON as ARM reads it: also comments, unquoted property names and trailing commas (JSON-C).

`az deployment group create` sends its template that way (`..., template:{...}}`), and templates may hold
comments (https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax#comments).
"""
import json
import re

_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def loads(text):
    try:
        return json.loads(text)
    except ValueError:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        return json.loads(_strict(text))


def _strict(text):
    """The same document as strict JSON."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == ",":
            rest = text[i + 1:].lstrip()
            if not rest.startswith(("}", "]")):
                out.append(c)
            i += 1
        else:
            m = _NAME.match(text, i)
            if m and text[m.end():].lstrip().startswith(":") and _after_key_start(out):
                out.append('"{}"'.format(m.group(0)))
                i = m.end()
            elif m:
                out.append(m.group(0))
                i = m.end()
            else:
                out.append(c)
                i += 1
    return "".join(out)


def _after_key_start(out):
    """True when the previous significant character opens an object or separates members."""
    for piece in reversed(out):
        stripped = piece.rstrip()
        if stripped:
            return stripped[-1] in "{,"
    return False
