"""Small-cell suppression of the public figures: no count under :data:`MIN_COUNT` is shown,
nor a rate whose denominator is under it; and no suppressed count can be worked out by
subtracting the shown ones from a total (complementary suppression).

Rule for a table of counts that add up to a shown total (the streets of a district): every cell
under ``MIN_COUNT`` is suppressed; then, while the suppressed cells are fewer than two or add up
to less than ``MIN_COUNT``, the smallest shown cell is suppressed as well. The total minus the
shown cells then gives only the sum of two or more suppressed cells, at least ``MIN_COUNT``, from
which no single one follows. A table of one cell (a district of one street) suppresses its total
with it.
"""

from __future__ import annotations

MIN_COUNT = 5


def suppressed_cells(counts: dict[str, int], minimum: int = MIN_COUNT) -> set[str]:
    """The keys whose counts are withheld (see the module's rule); ``counts`` add up to a shown total."""
    hidden = {k for k, n in counts.items() if n < minimum}
    if not hidden:
        return hidden
    shown = sorted((n, k) for k, n in counts.items() if k not in hidden)
    while shown and (len(hidden) < 2 or sum(counts[k] for k in hidden) < minimum):
        hidden.add(shown.pop(0)[1])
    return hidden


def total_hidden(counts: dict[str, int], hidden: set[str], minimum: int = MIN_COUNT) -> bool:
    """Whether the total must be withheld too: under ``minimum`` itself, or every cell is hidden
    and fewer than two (the total would be the one cell)."""
    total = sum(counts.values())
    return total < minimum or (len(hidden) == len(counts) and len(counts) < 2)


def rate(numerator: int | None, denominator: int, minimum: int = MIN_COUNT) -> float | None:
    """The rate, rounded to 0.1 %, or None when its denominator is under ``minimum``."""
    if numerator is None or denominator < minimum:
        return None
    return round(numerator / denominator, 3)
