"""GeoReport v2 service requests: intake through the incident service, and the public views.

A POST goes through :func:`api.incidents.report` with source ``open311``, so routing,
deadlines, duplicates, the case file and the audit are those of every other report; the
client app, the token and what the spec adds (``media_url``, ``attribute[...]``) are then
written to the incident and its case file in the same transaction. The answer names the
request by its public tracking code, never by the internal serial.

What anyone may read of a request follows the public track view: no description, no
contact, no staff, the place to about 100 m and the times to the hour (filters work on
the same coarse times, so they cannot be used to find the exact ones).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection
from pydantic import ValidationError

from api import audit, casefile, incidents
from api.auth.principal import Principal
from api.errors import Invalid, NotFound
from api.open311 import clients, services
from api.open311.schemas import RequestForm
from api.params import parse_time
from api.schemas import IncidentIn
from api.settings import Settings
from api.sqlfiles import sql
from api.text import bad_text_reason
from api.workflow import machine

MAX_SPAN = timedelta(days=90)  # the spec: a range of at most 90 days, the last 90 by default
MAX_REQUESTS = 1000  # the spec's default page: the newest 1000
MAX_IDS = 100
HOUR = timedelta(hours=1)
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\]$")
INTAKE_EVENT = "open311"  # the case-file entry of what an Open311 client added to a report

STATUS_NOTES = {
    "received": "已受理 (received)", "triaged": "已研判 (triaged)", "dispatched": "已派遣 (dispatched)",
    "accepted": "已接单 (accepted)", "on_scene": "已到场 (on scene)", "handled": "已处置 (handled)",
    "verified": "已核查 (verified)", "closed": "已办结 (closed)", "returned": "退回重新研判 (returned to the desk)",
    "reopened": "重新办理 (reopened)", "suspended": "暂停办理 (suspended)", "void": "已作废 (void)",
    "duplicate": "与其他报告合并办理 (merged with another report)",
    "not_responsible": "非职责范围 (not our responsibility)",
}
# the spec's two statuses -> the case states they cover (api.workflow.machine)
STATES = {"open": tuple(machine.OPEN), "closed": tuple(sorted(machine.ENDED))}
FIELDS = {"lon": "long", "category": "service_code", "contact": "email, phone, first_name, last_name"}


# ------------------------------------------------------------------ jurisdiction and filters

async def jurisdiction(conn: AsyncConnection, jurisdiction_id: str | None) -> str | None:
    """The district a jurisdiction_id names (None when absent); unknown: 404."""
    if jurisdiction_id is None or jurisdiction_id == "":
        return None
    if (await sql.fetchone(conn, "open311_jurisdiction", {"code": jurisdiction_id})) is None:
        raise NotFound(f"unknown jurisdiction_id {jurisdiction_id!r}", field="jurisdiction_id")
    return jurisdiction_id


def _w3c(value: str | None, field: str, tz: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("must be a W3C datetime such as 2026-11-01T00:00:00+08:00", field=field) from None
    return parse_time(parsed, tz, field)  # the range every time a caller sends is held to


def window(start_date: str | None, end_date: str | None, tz: str,
           now: datetime | None = None) -> tuple[datetime, datetime]:
    """[from, to) on the exact times that matches start_date <= time-to-the-hour <= end_date.

    Without dates: the last 90 days; with one: 90 days from or up to it; never more than 90.
    """
    start, end = _w3c(start_date, "start_date", tz), _w3c(end_date, "end_date", tz)
    if start and end:
        if end < start:
            raise Invalid("must not be before start_date", field="end_date")
        if end - start > MAX_SPAN:
            raise Invalid("start_date to end_date may span at most 90 days", field="end_date")
    elif start:
        end = start + MAX_SPAN
    elif end:
        start = end - MAX_SPAN
    else:
        end = now or datetime.now(UTC)
        start = end - MAX_SPAN
    floor = start.replace(minute=0, second=0, microsecond=0)
    first = floor if floor == start else floor + HOUR  # the first whole hour at or after start
    return first, end.replace(minute=0, second=0, microsecond=0) + HOUR


def _list(value: str | None, field: str, *, limit: int) -> list[str] | None:
    if value is None or value.strip() == "":
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > limit:
        raise Invalid(f"at most {limit} values, comma separated", field=field)
    return items


async def _check_codes(conn: AsyncConnection, codes: list[str] | None) -> None:
    known = {s["service_code"] for s in await services.service_list(conn)}
    for code in codes or ():
        if code not in known:
            raise Invalid(f"unknown service_code {code!r} (see services.json)", field="service_code")


def _states(status: str | None) -> list[str] | None:
    wanted = _list(status, "status", limit=2)
    if wanted is None:
        return None
    for s in wanted:
        if s not in STATES:
            raise Invalid("must be open, closed or both (comma separated)", field="status")
    return None if set(wanted) == set(STATES) else [state for s in set(wanted) for state in STATES[s]]


# ------------------------------------------------------------------ the public views

def _shown(row: dict, tz: ZoneInfo) -> dict:
    def local(t):
        return t.astimezone(tz) if t is not None else None

    return {
        "service_request_id": row["service_request_id"],
        "status": "closed" if row["status"] in machine.ENDED else "open",
        "status_notes": STATUS_NOTES.get(row["status"], row["status"]),
        "service_name": row["service_name"], "service_code": row["service_code"],
        "agency_responsible": row["agency_responsible"], "service_notice": None,
        "requested_datetime": local(row["requested_datetime"]), "updated_datetime": local(row["updated_datetime"]),
        "expected_datetime": local(row["expected_datetime"]), "address": row["address"],
        "lat": row["lat"], "long": row["long"],
    }


async def _rows(conn: AsyncConnection, settings: Settings, **params) -> list[dict]:
    base = {"district": None, "ids": None, "codes": None, "states": None, "start": None, "end": None,
            "limit": MAX_REQUESTS}
    rows = await sql.fetchall(conn, "open311_requests", {**base, **params})
    tz = ZoneInfo(settings.timezone)
    return [_shown(dict(r), tz) for r in rows]


async def search(conn: AsyncConnection, settings: Settings, *, district: str | None, service_request_id: str | None,
                 service_code: str | None, start_date: str | None, end_date: str | None,
                 status: str | None) -> list[dict]:
    """GET requests: by ids (the other filters then do not apply, as the spec says), or the
    newest 1000 of a window of at most 90 days, by service codes and open/closed."""
    ids = _list(service_request_id, "service_request_id", limit=MAX_IDS)
    if ids is not None:
        return await _rows(conn, settings, district=district, ids=ids)
    codes = _list(service_code, "service_code", limit=50)
    await _check_codes(conn, codes)
    start, end = window(start_date, end_date, settings.timezone)
    return await _rows(conn, settings, district=district, codes=codes, states=_states(status),
                       start=start, end=end)


async def read(conn: AsyncConnection, settings: Settings, district: str | None, request_id: str) -> dict:
    rows = await _rows(conn, settings, district=district, ids=[request_id])
    if not rows:
        raise NotFound(f"no service request {request_id!r}", field="service_request_id")
    return rows[0]


async def by_token(conn: AsyncConnection, district: str | None, token: str) -> dict:
    row = await sql.fetchone(conn, "open311_token", {"token": token})
    if row is None or (district is not None and row["district_code"] != district):
        raise NotFound("no service request for this token", field="token")
    return {"service_request_id": row["service_request_id"], "token": row["token"]}


# ------------------------------------------------------------------ intake

def attributes_from(form_items: list[tuple[str, str]]) -> dict[str, str]:
    """The ``attribute[code]=value`` pairs of a posted form (text PostgreSQL cannot store refused)."""
    found = {}
    for key, value in form_items:
        if not key.startswith("attribute"):
            continue
        match = ATTRIBUTE.match(key)
        if match is None:
            raise Invalid("attributes are sent as attribute[code]=value", field=key[:80])
        reason = bad_text_reason(key) or (bad_text_reason(value) if isinstance(value, str) else "must be text")
        if reason:
            raise Invalid(reason, field=key[:80])
        if len(value) > 500:
            raise Invalid("at most 500 characters", field=key)
        found[match.group(1)] = value
    return found


def _contact(form: RequestForm) -> str | None:
    """What identifies the person, sealed as one contact entry (never published)."""
    name = " ".join(filter(None, [form.first_name, form.last_name]))
    parts = [("name", name), ("email", form.email), ("phone", form.phone),
             ("account_id", form.account_id), ("device_id", form.device_id)]
    text = "; ".join(f"{label}: {value.strip()}" for label, value in parts if value and value.strip())
    if len(text) > 200:
        raise Invalid("first_name, last_name, email, phone, account_id and device_id together are too long "
                      "(at most 200 characters)", field="email")
    return text or None


def _location(form: RequestForm) -> tuple[float, float]:
    if form.lat is None and form.long is None:
        hint = " (this server has no geocoder: address_string alone is not enough)" if form.address_string else ""
        raise Invalid("a location is required: send lat and long (WGS-84)" + hint, field="lat")
    if form.lat is None or form.long is None:
        missing = "lat" if form.lat is None else "long"
        raise Invalid("required with " + ("long" if missing == "lat" else "lat"), field=missing)
    return form.long, form.lat


def _incident_in(form: RequestForm) -> IncidentIn:
    lon, lat = _location(form)
    try:
        body = IncidentIn(category=form.service_code, description=form.description or "", lon=lon, lat=lat,
                          contact=_contact(form))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "body"
        raise Invalid(first.get("msg", "invalid"), field=FIELDS.get(field, field)) from None
    return body.model_copy(update={"source": "open311"})  # the server's word, not the client's


def _media_url(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    if not URL.match(value.strip()):
        raise Invalid("must be an http:// or https:// URL", field="media_url")
    return value.strip()


def _notice(request_id: str, tracking_code: str, flags: list[str]) -> str:
    notice = (f"已受理，查询码 {tracking_code}（请转告报料人，凭此查询办理进度）。"
              f"Received: tracking code {tracking_code} for the reporter; requests/{request_id} follows it.")
    if "unrouted" in flags:
        notice += (" 该位置不在任何网格内，由指挥中心人工分派。"
                   "The place is outside every grid: the desk routes it by hand.")
    return notice


async def create(conn: AsyncConnection, who: Principal, settings: Settings, form: RequestForm,
                 form_items: list[tuple[str, str]]) -> dict:
    """POST requests: the jurisdiction (404), the client app's key (403), the form (400), then
    one incident through the incident service, linked to the client app."""
    await jurisdiction(conn, form.jurisdiction_id)
    client = await clients.authenticate(conn, settings.hash_key, form.api_key)
    body = _incident_in(form)
    media_url = _media_url(form.media_url)
    attributes = services.check_attributes(form.service_code, attributes_from(form_items))
    doc, _ = await incidents.report(conn, who, body, settings, idempotency_key=None)
    token = secrets.token_urlsafe(18)
    request_id = await sql.scalar(conn, "open311_request_link",
                                     {"id": doc["id"], "client_id": client["id"], "token": token})
    # the link is kept in the case file and never fetched (no request to the internet)
    await casefile.add_event(conn, doc["id"], actor=casefile.REPORTER, kind=INTAKE_EVENT, data={
        "client": client["name"], "media_url": media_url, "attributes": attributes,
        "address_string": form.address_string, "address_id": form.address_id})
    await audit.record(conn, actor=f"open311:{client['name']}", action="open311_request", entity="incident",
                       entity_id=doc["id"], after={"client": client["name"], "tracking_code": doc["tracking_code"]},
                       client=who.client)
    return {"service_request_id": request_id, "token": token,
            "service_notice": _notice(request_id, doc["tracking_code"], doc["routing"].get("flags", [])),
            "account_id": form.account_id}
