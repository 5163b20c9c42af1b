"""A period's scores: per indicator, per dimension and for the street, on the template's scale
(1–5) and as points out of 100 (the seed's "92.42 分": 非常满意 = 100, 满意 = 80, 一般 = 60,
不满意 = 40, 非常不满意 = 20, i.e. the mean score × 20).

With each: the number of answers and a 95% confidence interval of the mean by Student's t
(mean ± t(0.975, n−1) · s / √n, clipped to the scale; none under 2 answers). An indicator's
answers are the phones that scored it; a dimension's and the street's, each phone's mean over the questions it answered
there (so one phone counts once). Fewer than :data:`TOO_FEW` answers: marked ``too_few`` and
never ranked. The public sees no count under :data:`PUBLIC_MIN` (nor the score it would reveal).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from psycopg import AsyncConnection
from scipy import stats

from api.auth.policy import Capability
from api.auth.principal import Principal
from api.settings import Settings
from api.sqlfiles import sql
from api.surveys import periods, template

TOO_FEW = 30      # fewer answers: marked, never ranked
PUBLIC_MIN = 5    # fewer answers: the public sees neither the count nor the score
LOWEST = 3        # the lowest ranked indicators of a street: candidates for follow-up items
CONFIDENCE = 0.95


def summary(n: int, mean: float | None, sd: float | None, points: float,
            scale: tuple[int, int] = (1, 5)) -> dict[str, Any]:
    """n, mean (1–5), score (points) and its 95% t interval (clipped to the scale), and whether n is too few."""
    if not n or mean is None:
        return {"n": 0, "mean": None, "score": None, "ci_low": None, "ci_high": None, "too_few": True}
    mean = float(mean)
    low = high = None
    if n >= 2 and sd is not None:
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * float(sd) / math.sqrt(n)
        low = round(max(mean - half, scale[0]) * points, 2)
        high = round(min(mean + half, scale[1]) * points, 2)
    return {"n": n, "mean": round(mean, 4), "score": round(mean * points, 2), "ci_low": low, "ci_high": high,
            "too_few": n < TOO_FEW}


def _named(rec: dict[str, Any]) -> dict[str, Any]:
    return {"code": rec["code"], "name": rec["name"], "name_en": rec["name_en"]}


async def of_period(conn: AsyncConnection, settings: Settings, period: dict[str, Any]) -> dict[str, Any]:
    """The scores of one period (``periods.get``'s row), indicators ranked best first among those
    with enough answers."""
    tpl = await template.load(conn, period["template_code"])
    dimension_of = tpl.dimension_of
    rows = await sql.fetchall(conn, "survey_scores", {
        "period": period["id"], "indicators": list(dimension_of), "dimensions": list(dimension_of.values())})
    found = {(r["level"], r["code"]): r for r in rows}
    points = float((tpl.document.get("scale") or {}).get("points", 20))

    def of(level: str, code: str | None) -> dict[str, Any]:
        r = found.get((level, code)) or {}
        return summary(int(r.get("n") or 0), r.get("mean"), r.get("sd"), points, tpl.scale)

    dimensions = []
    indicators = []
    for d in tpl.dimensions:
        items = [{**_named(i), "dimension": d["code"], **of("indicator", i["code"])} for i in d["indicators"]]
        indicators += items
        dimensions.append({**_named(d), **of("dimension", d["code"]), "indicators": items})
    ranked = sorted((i for i in indicators if not i["too_few"]), key=lambda i: (-i["mean"], i["code"]))
    for rank, i in enumerate(ranked, 1):
        i["rank"] = rank
    for i in indicators:
        i.setdefault("rank", None)
    return {"period": {k: period[k] for k in ("id", "opens", "closes", "state")},
            "street": period["street_code"], "street_name": period["street_name"],
            "street_name_en": period["street_name_en"], "template": tpl.code,
            "overall": of("street", None), "dimensions": dimensions,
            "lowest": [i["code"] for i in reversed(ranked[-LOWEST:])],
            "method": f"mean of 1-5 scores x {points:g} points; {CONFIDENCE:.0%} CI by Student's t; "
                      f"fewer than {TOO_FEW} answers: too_few, not ranked"}


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The same scores for everyone: counts under PUBLIC_MIN (and their scores) withheld."""

    def cut(s: dict[str, Any]) -> dict[str, Any]:
        if s["n"] >= PUBLIC_MIN:
            return {**s, "withheld": False}
        return {**s, "n": None, "mean": None, "score": None, "ci_low": None, "ci_high": None, "withheld": True}

    dims = [{**cut(d), "indicators": [cut(i) for i in d["indicators"]]} for d in doc["dimensions"]]
    return {**doc, "overall": cut(doc["overall"]), "dimensions": dims}


async def of_street(conn: AsyncConnection, settings: Settings, street_code: str) -> dict[str, Any] | None:
    await periods.street(conn, street_code)
    period = await periods.current(conn, settings, street_code)
    if period is None:
        return None
    return await of_period(conn, settings, await periods.get(conn, settings, period["id"]))


async def ranking(conn: AsyncConnection, settings: Settings, on: date, who: Principal | None = None,
                  public_view: bool = False) -> dict[str, Any]:
    """Every street surveyed on day ``on`` (in the caller's reach): its overall score, n and
    interval, ranked best first among the streets with enough answers (the others: rank None)."""
    rows = await sql.fetchall(conn, "survey_periods_on", {"on": on, "today": periods.today(settings)})
    streets = []
    for period in rows:
        if not periods.in_reach(who, Capability.READ_SURVEYS, period["lineage"]):
            continue
        doc = await of_period(conn, settings, period)
        if public_view:
            doc = public(doc)
        streets.append({"street": doc["street"], "street_name": doc["street_name"],
                        "street_name_en": doc["street_name_en"], "period": doc["period"], **doc["overall"],
                        "dimensions": [{k: d[k] for k in d if k != "indicators"} for d in doc["dimensions"]]})
    ranked = sorted((s for s in streets if not s["too_few"] and s["mean"] is not None),
                    key=lambda s: (-s["mean"], s["street"]))
    for rank, s in enumerate(ranked, 1):
        s["rank"] = rank
    for s in streets:
        s.setdefault("rank", None)
    return {"on": on, "streets": sorted(streets, key=lambda s: (s["rank"] is None, s["rank"] or 0, s["street"]))}
