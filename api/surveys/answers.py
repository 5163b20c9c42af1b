"""A resident's answer: through the street's signed link, from a phone (its secret), while the
street's survey period is open. One answer per phone per period, kept under a keyed hash of the
phone's secret and the period (the same phone in another period is another key, so periods
cannot be linked); a repeat replaces the earlier answer in one statement. Nothing else about
the resident is kept: no address, phone number, place or user agent, and only the day."""

from __future__ import annotations

import json
from typing import Any

from psycopg import AsyncConnection

from api import audit, clock, qr
from api.auth.principal import Principal
from api.errors import Conflict, Forbidden, Invalid
from api.keyed import keyed_hash
from api.settings import Settings
from api.sqlfiles import sql
from api.surveys import periods, template


def link_code(street_code: str) -> str:
    """What a street's survey link signs (apart from any grid code a report poster signs)."""
    return f"survey/{street_code}"


def signed(settings: Settings, street_code: str, sig: str | None) -> qr.Signed:
    keys = qr.keys_of(settings.qr_key or "", settings.qr_overlap_until)
    return keys.signed(link_code(street_code), sig, clock.now())


def check_link(settings: Settings, street_code: str, sig: str | None) -> qr.Signed:
    """The key that signed the link; a link no key signed (or signed by a key past its overlap)
    is refused."""
    how = signed(settings, street_code, sig)
    if how not in ("current", "previous"):
        raise Forbidden("this survey link is not signed for this street: scan the poster again",
                        field="sig", code="survey_link")
    return how


def device_key(settings: Settings, period_id: int, secret: str) -> str:
    return keyed_hash(settings.hash_key or "", "survey", f"{period_id}:{secret}")


async def form(conn: AsyncConnection, settings: Settings, street_code: str, sig: str | None,
               secret: str | None) -> dict[str, Any]:
    """What the survey page shows: the street, its open period and the questions, and this
    phone's earlier answer in the period (to change it)."""
    check_link(settings, street_code, sig)
    street = await periods.street(conn, street_code)
    period = await periods.current(conn, settings, street_code)
    if period is None or period["state"] != "open":
        return {"street": street_code, "street_name": street["name"], "street_name_en": street["name_en"],
                "period": None, "dimensions": [], "scale": None, "yours": None}
    tpl = await template.load(conn, period["template_code"])
    yours = None
    if secret:
        mine = await sql.fetchone(conn, "survey_answer_of", {"period": period["id"],
                                                              "device": device_key(settings, period["id"], secret)})
        yours = mine["scores"] if mine else None
    return {"street": street_code, "street_name": street["name"], "street_name_en": street["name_en"],
            "period": {k: period[k] for k in ("id", "opens", "closes")}, "dimensions": tpl.dimensions,
            "scale": tpl.document.get("scale"), "yours": yours}


def checked_scores(tpl: template.Template, scores: dict[str, int]) -> dict[str, int]:
    """Every score names an indicator of the template and lies on its scale; else Invalid naming it."""
    if not scores:
        raise Invalid("answer at least one question", field="scores")
    known = tpl.indicators
    low, high = tpl.scale
    for code, value in scores.items():
        if code not in known:
            raise Invalid(f"{code!r} is not a question of this survey", field=f"scores.{code}")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"{code}: a score is a whole number from {low} to {high}, not {value!r}",
                          field=f"scores.{code}")
    return dict(sorted(scores.items()))


async def answer(conn: AsyncConnection, who: Principal, settings: Settings, street_code: str, sig: str | None,
                 secret: str | None, scores: dict[str, int]) -> dict[str, Any]:
    """Keep this phone's answer for the street's open period (replacing its earlier one)."""
    if not secret:
        raise Invalid("a survey answer needs the phone's secret (X-Device-Secret): open the survey page "
                      "from the poster", field="X-Device-Secret")
    how = check_link(settings, street_code, sig)
    await periods.street(conn, street_code)
    period = await periods.current(conn, settings, street_code)
    if period is None or period["state"] != "open":
        raise Conflict(f"street {street_code} has no survey open today", field="period", code="survey_closed")
    tpl = await template.load(conn, period["template_code"])
    kept = checked_scores(tpl, scores)
    replaced = await sql.scalar(conn, "survey_answer_upsert", {
        "period": period["id"], "device": device_key(settings, period["id"], secret),
        "scores": json.dumps(kept), "poster": how, "today": periods.today(settings)})
    # the audit row names the period and what happened, never the phone nor the address
    await audit.record(conn, actor=who.actor, action="survey_answer", entity="survey_period", entity_id=period["id"],
                       after={"replaced": bool(replaced), "questions": len(kept)}, client=None)
    return {"period": period["id"], "replaced": bool(replaced), "questions": len(kept)}
