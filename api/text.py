"""Text that PostgreSQL cannot store: NUL characters and lone UTF-16 surrogates.

Both arrive easily (``%00`` in a URL, ``"\\u0000"`` or ``"\\ud800"`` in JSON) and would
fail deep in the driver as a 500. They are refused at the edge instead, naming the field.
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


def check_nested(value: Any) -> Any:
    """Raise ``ValueError`` for bad text anywhere inside ``value`` (strings, lists, dict keys and values)."""
    if isinstance(value, str):
        reason = bad_text_reason(value)
        if reason:
            raise ValueError(reason)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_nested(k)
            check_nested(v)
    elif isinstance(value, list | tuple):
        for v in value:
            check_nested(v)
    return value
