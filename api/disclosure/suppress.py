"""Small-cell suppression of the public figures: no count of 1 to :data:`MIN_COUNT` − 1 is shown
(a zero is: no case, no one to recognise),
nor a rate whose denominator is under it; and no suppressed count can be worked out by
subtracting the shown ones from a total (complementary suppression).

Rule for a table of counts that add up to a shown total (the streets of a district): every cell
of 1 to ``MIN_COUNT`` − 1 is suppressed; then, while the suppressed cells are fewer than two or add
up to less than ``MIN_COUNT``, the smallest shown non-zero cell is suppressed as well. The total minus the
shown cells then gives only the sum of two or more suppressed cells, at least ``MIN_COUNT``, from
which no single one follows. A table of one cell (a district of one street) suppresses its total
with it.
"""

from __future__ import annotations

MIN_COUNT = 5


def suppressed_cells(counts: dict[str, int], minimum: int = MIN_COUNT) -> set[str]:
    """The keys whose counts are withheld (see the module's rule); ``counts`` add up to a shown total."""
    hidden = {k for k, n in counts.items() if 0 < n < minimum}
    if not hidden:
        return hidden
    shown = sorted((n, k) for k, n in counts.items() if k not in hidden and n > 0)
    while shown and (len(hidden) < 2 or sum(counts[k] for k in hidden) < minimum):
        hidden.add(shown.pop(0)[1])
    return hidden


def total_hidden(counts: dict[str, int], hidden: set[str], minimum: int = MIN_COUNT) -> bool:
    """Whether the total must be withheld too: 1 to ``minimum`` − 1 itself, or one hidden cell
    holds all of it (the other cells are zeros: the total would be that cell)."""
    total = sum(counts.values())
    return 0 < total < minimum or (len(hidden) == 1 and counts[next(iter(hidden))] == total)


def rate(numerator: int | None, denominator: int, minimum: int = MIN_COUNT) -> float | None:
    """The rate, rounded to 0.1 %, or None when its denominator is under ``minimum``."""
    if numerator is None or denominator < minimum:
        return None
    return round(numerator / denominator, 3)
