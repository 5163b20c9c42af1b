"""What time it is for the command room: a report's arrival, a case's steps, a schedule load.

One function, so that a test can set the clock into a year without holiday data and file
reports through the API as residents do (``with clock.fixed(moment): ...``). Nothing else moves
it: the deadline scheduler is given its moment explicitly (``supervision.tick(now=...)``) and
its loop in each worker always runs on the real clock, and the database's own ``now()``
(case-file event times of intake, the queue's overdue column) is never shifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """The current moment (aware, UTC), or the one a test fixed."""
    return _fixed if _fixed is not None else datetime.now(UTC)


@contextmanager
def fixed(moment: datetime) -> Iterator[datetime]:
    """Within the block, :func:`now` answers ``moment`` (an aware datetime) in every thread."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (with its time zone)")
    before, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield _fixed
    finally:
        _fixed = before
