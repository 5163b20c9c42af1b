"""The columns of each kind of roster file, and telling the kind from a file's header row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = ("departments", "categories", "stations", "units", "accounts")
TEMPLATES = Path(__file__).resolve().parents[2] / "sample_geodata" / "templates"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = True


def _cols(*names: str, optional: tuple[str, ...] = ()) -> tuple[Column, ...]:
    return tuple(Column(n) for n in names) + tuple(Column(n, required=False) for n in optional)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "departments": _cols("code", "name", "name_en"),
    "categories": _cols("code", "name", "name_en", "departments", "default_tier", "urgent", "high", "normal", "low",
                        optional=("five_matters",)),
    "stations": _cols("code", "name", "zone", "departments", "lon", "lat"),
    "units": _cols("code", "name", "department", optional=("station", "patrol_zone", "lon", "lat")),
    "accounts": _cols("username", "role", "area", optional=("name", "unit")),
}

# the column that names a row (the upsert key; accounts: one row per grant, keyed by username)
KEY = {"departments": "code", "categories": "code", "stations": "code", "units": "code", "accounts": "username"}


def names(kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind]]


def required(kind: str) -> set[str]:
    return {c.name for c in COLUMNS[kind] if c.required}


def infer_kind(headers: list[str]) -> str | None:
    """The one kind whose required columns the header has and whose columns cover it, or None."""
    given = set(headers)
    fits = [k for k in KINDS if required(k) <= given <= set(names(k))]
    return fits[0] if len(fits) == 1 else None


def template_path(kind: str) -> Path:
    return TEMPLATES / f"{kind}.csv"
