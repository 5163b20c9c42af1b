"""From a month's KPI figures to a score, stars and the breakdown that produced them (pure).

score = 100 x sum(weight x value) over the weighted KPIs with something to measure (their
weights scaled to sum to 1: a month without ratings is scored on the rest), minus each penalty's
points x its KPI's share (numerator / denominator), clamped to 0..100 and rounded to 2 places.
Stars: 1, plus one for each threshold the score reaches. Too few cases received: no score,
no stars (``rated`` false).
"""

from __future__ import annotations

from typing import Any

from api.kpi.definitions import KPI_BY_KEY

PLACES = 4  # a part's points, rounded: the same figures give the same breakdown, to the digit


def _share(f: dict[str, Any]) -> float | None:
    den = f.get("denominator") or 0
    return (f.get("numerator") or 0) / den if den else None


def rate(doc: dict[str, Any], figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``figures``: the KPI service's figures by key (numerator, denominator). Returns cases,
    rated, score, stars and breakdown (one entry per weighted KPI and penalty, in the
    configuration's order)."""
    cases = int(figures["received"]["denominator"] or 0)
    weights: dict[str, float] = doc["weights"]
    measured = {k: _share(figures[k]) for k in weights}
    present = sum(w for k, w in weights.items() if measured[k] is not None)
    breakdown: list[dict[str, Any]] = []
    total = 0.0
    for key, weight in weights.items():
        value = measured[key]
        used = weight / present if value is not None and present else 0.0
        points = round(100 * used * value, PLACES) if value is not None else 0.0
        total += points
        breakdown.append(_entry(key, "weight", figures[key], value, weight, points, used=round(used, 6)))
    for key, at_full in doc["penalties"].items():
        value = _share(figures[key])
        points = -round(at_full * value, PLACES) if value is not None else 0.0
        total += points
        breakdown.append(_entry(key, "penalty", figures[key], value, at_full, points))
    rated = cases >= doc["min_cases"] and present > 0
    score = round(min(100.0, max(0.0, total)), 2) if rated else None
    stars = 1 + sum(score >= t for t in doc["thresholds"]) if score is not None else None
    return {"cases": cases, "rated": rated, "score": score, "stars": stars, "breakdown": breakdown,
            "unrated_reason": None if rated else (
                f"fewer than {doc['min_cases']} cases" if cases < doc["min_cases"] else "no weighted KPI measured")}


def _entry(key: str, role: str, figure: dict[str, Any], value: float | None, weight: float, points: float,
           used: float | None = None) -> dict[str, Any]:
    k = KPI_BY_KEY[key]
    return {"key": key, "name_zh": k.name_zh, "name_en": k.name_en, "role": role,
            "numerator": figure.get("numerator"), "denominator": int(figure.get("denominator") or 0),
            "value": None if value is None else round(value, 6), "weight": weight, "weight_used": used,
            "points": points}
