"""The hand-over sheet (交办单): measures, deadline and responsible units of a case, printable;
in the request's language from the translation catalogues (Chinese by default)."""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import audit, i18n
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import NotFound
from api.sqlfiles import sql


def _t(value, tz: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _spec(spec: str | None, lang: str) -> str:
    """A deadline's length in words ("8wh": 8 working hours)."""
    m = re.fullmatch(r"(\d+)(h|wh|wd)", (spec or "").strip())
    return i18n.t(f"deadline.{m.group(2)}", lang, n=m.group(1)) if m else (spec or "")


def render(case: dict, tz: ZoneInfo, lang: str | None = None) -> str:
    """The sheet in ``lang`` (the catalogue's words; Chinese, the official one, by default)."""
    lang = lang if lang in i18n.languages() else i18n.default_lang()
    tr = lambda key, **params: i18n.t(key, lang, **params)  # noqa: E731
    e = lambda v: escape("" if v is None else str(v))  # noqa: E731

    def named(row: dict, key: str) -> str:  # a name in the sheet's language, where the data has one
        if lang != i18n.default_lang() and row.get(f"{key}_{lang}"):
            return row[f"{key}_{lang}"]
        return row.get(key) or ""

    provisional = f"<strong class='provisional' data-provisional='true'>{e(tr('handover.provisional'))}</strong>"
    place = " / ".join(e(named(case, k)) for k in ("street_name", "community_name", "grid_name") if case[k])
    measures = "".join(f"<li>{_t(m['at'], tz)} {e(m['actor'])}: {e(m['note'])}</li>" for m in case["measures"]) \
        or "<li>—</li>"
    units = "".join(f"<li>{e(named(u, 'department'))} · {e(u['unit'])} "
                    f"<small>({_t(u['dispatched_at'], tz)})</small></li>"
                    for u in case["units"]) or "<li>—</li>"
    call = case["department_call"]
    called = (f"{e(named(call, 'department'))} <small>{e(tr('handover.answer_by'))} {_t(call['answer_due_at'], tz)}"
              f"{' ' + provisional if call.get('answer_due_provisional') else ''}; "
              f"{e(tr('handover.answered'))} {_t(call['answered_at'], tz)}</small>") if call else "—"
    deadline = f"{_t(case['due_at'], tz)} <small>({e(_spec(case['deadline_spec'], lang))})</small>"
    if case["due_at"] is not None and case["due_provisional"]:
        deadline += (f" {provisional}<br><small class='provisional-note'>"
                     f"{e(tr('desk.provisional.why'))}</small>")
    zone = named(case, "zone_name")
    rows = [
        ("handover.no", e(case["tracking_code"])),
        ("handover.category", e(named(case, "category_name"))),
        ("handover.priority", e(tr(f"priority.{case['priority']}") if case["priority"] else "—")),
        ("handover.tier", e(tr(f"tier.{case['tier']}") if case["tier"] else "—")),
        ("handover.place", place + (f" <small>{e(tr('handover.zone', name=zone))}</small>" if zone else "")),
        ("handover.received", _t(case["reported_at"], tz)),
        ("handover.matter", e(case["description"]) or "—"),
        ("handover.measures", f"<ul>{measures}</ul>"),
        ("handover.deadline", deadline),
        ("handover.units", f"<ul>{units}</ul>"),
        ("handover.called", called),
    ]
    body = "".join(f"<tr><th>{e(tr(k))}</th><td>{v}</td></tr>" for k, v in rows)
    title = e(tr("handover.title"))
    return (f"<!doctype html><html lang='{e(tr('lang.tag'))}'><head><meta charset='utf-8'>"
            f"<title>{title} {e(case['tracking_code'])}</title><link rel='stylesheet' href='/static/handover.css'>"
            f"</head><body><h1>{title}</h1>"
            f"<table>{body}</table><div class='sign'><span>{e(tr('handover.issued_by'))}：__________</span>"
            f"<span>{e(tr('handover.received_by'))}：__________</span><span>{e(tr('handover.date'))}：__________</span>"
            f"</div></body></html>")


async def sheet(conn: AsyncConnection, who: Principal, incident_id: int, tz: str, lang: str | None = None) -> str:
    r = reach(who, Capability.WORK_DESK)
    row = await sql.fetchone(conn, "handover_case", {"id": incident_id, **r.params()})
    if row is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    await audit.record(conn, actor=who.actor, action="print_handover", entity="incident", entity_id=incident_id,
                       client=who.client)
    return render(dict(row), ZoneInfo(tz), lang)
