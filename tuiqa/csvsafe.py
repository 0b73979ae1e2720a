"""Spreadsheet-safe CSV cells: no cell is ever run as a formula, and the round trip is exact.

A cell a spreadsheet would evaluate (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is written with a leading ``'``. So that reading it back is exact, a cell that already
starts with quote marks followed by one of those characters gets one more ``'``; reading removes
exactly one ``'`` from such cells and from no others.
"""

from __future__ import annotations

import re

_TRIGGER = "=+-@\t\r"
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


def escape(value: str) -> str:
    if value and (value[0] in _TRIGGER or _ESCAPED.match(value)):
        return "'" + value
    return value


def unescape(value: str) -> str:
    if _ESCAPED.match(value):
        return value[1:]
    return value
