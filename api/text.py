"""Text that PostgreSQL cannot store (NUL characters and lone UTF-16 surrogates), and JSON
nested deeper than any document of the app.

Both kinds of text arrive easily (``%00`` in a URL, ``"\\u0000"`` or ``"\\ud800"`` in JSON)
and would fail deep in the driver as a 500; lists nested 500 deep fail in whatever recursive
code meets them first (shapely's GeoJSON reader, ``repr``, ``json.dumps``) with a
RecursionError. They are refused at the edge instead, naming the field.
"""

from __future__ import annotations

import re
from typing import Any

_BAD = re.compile(r"[\x00\ud800-\udfff]")


def bad_text_reason(value: str) -> str | None:
    match = _BAD.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "must not contain NUL characters"
    return "must not contain unpaired surrogate characters (invalid Unicode)"


# Lists and objects inside one value: the deepest real one is a MultiPolygon's coordinates (4).
MAX_DEPTH = 32


def check_nested(value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """Raise ``ValueError`` for bad text anywhere inside ``value`` (strings, lists, dict keys and
    values) and for lists or dicts nested more than ``max_depth`` deep. Iterative: no depth of
    input can exhaust the stack here.

    >>> check_nested([[1, {"a": "b"}]])
    [[1, {'a': 'b'}]]
    >>> check_nested([[[]]], max_depth=2)
    Traceback (most recent call last):
    ...
    ValueError: lists or objects nested more than 2 deep
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            reason = bad_text_reason(item)
            if reason:
                raise ValueError(reason)
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise ValueError(f"lists or objects nested more than {max_depth} deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return value
