"""The hand-over sheet (交办单): measures, deadline and responsible units of a case, printable."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from api import audit
from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.errors import NotFound
from api.sqlfiles import sql

PRIORITY = {"urgent": "特急 urgent", "high": "紧急 high", "normal": "一般 normal", "low": "较低 low"}
PROVISIONAL = ("<strong class='provisional' data-provisional='true'>暂定 Provisional</strong>")
PROVISIONAL_NOTE = ("<br><small class='provisional-note'>该年度放假安排尚未公布，按法定节假日推算（不含调休），公布并导入后自动重新计算。"
                    "<br>Counted on the statutory holidays of a year whose official schedule is not published yet "
                    "(no swapped working days); recomputed when it is loaded.</small>")
TIER = {"grid": "网格 grid", "community": "社区 community", "zone": "片区 zone", "street": "街道 street",
        "district": "区级部门 district"}



def _t(value, tz: ZoneInfo) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def render(case: dict, tz: ZoneInfo) -> str:
    e = lambda v: escape("" if v is None else str(v))  # noqa: E731
    place = " / ".join(e(case[k]) for k in ("street_name", "community_name", "grid_name") if case[k])
    measures = "".join(f"<li>{_t(m['at'], tz)} {e(m['actor'])}: {e(m['note'])}</li>" for m in case["measures"]) \
        or "<li>—</li>"
    units = "".join(f"<li>{e(u['department'])} · {e(u['unit'])} <small>({_t(u['dispatched_at'], tz)})</small></li>"
                    for u in case["units"]) or "<li>—</li>"
    call = case["department_call"]
    called = (f"{e(call['department'])} <small>报到期限 answer by {_t(call['answer_due_at'], tz)}"
              f"{' ' + PROVISIONAL if call.get('answer_due_provisional') else ''}; "
              f"报到 answered {_t(call['answered_at'], tz)}</small>") if call else "—"
    deadline = f"{_t(case['due_at'], tz)} <small>({e(case['deadline_spec'] or '')})</small>"
    if case["due_at"] is not None and case["due_provisional"]:
        deadline += f" {PROVISIONAL}{PROVISIONAL_NOTE}"
    rows = [
        ("编号<br><small>No.</small>", e(case["tracking_code"])),
        ("事项类别<br><small>Category</small>", f"{e(case['category_name'])} <small>{e(case['category_name_en'])}</small>"),
        ("紧急程度<br><small>Priority</small>", e(PRIORITY.get(case["priority"], case["priority"]))),
        ("办理层级<br><small>Tier</small>", e(TIER.get(case["tier"], case["tier"]))),
        ("地点<br><small>Place</small>", place + (f" <small>片区 {e(case['zone_name'])}</small>" if case["zone_name"] else "")),
        ("受理时间<br><small>Received</small>", _t(case["reported_at"], tz)),
        ("事项内容<br><small>Matter</small>", e(case["description"]) or "—"),
        ("工作措施<br><small>Measures</small>", f"<ul>{measures}</ul>"),
        ("办理时限<br><small>Deadline</small>", deadline),
        ("责任单位<br><small>Responsible units</small>", f"<ul>{units}</ul>"),
        ("吹哨部门<br><small>Department called</small>", called),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>交办单 {e(case['tracking_code'])}"
            f"</title><link rel='stylesheet' href='/static/handover.css'></head><body><h1>交办单</h1><p class='sub'>Hand-over sheet</p>"
            f"<table>{body}</table><div class='sign'><span>交办人 Issued by：__________</span>"
            f"<span>承办人 Received by：__________</span><span>日期 Date：__________</span></div></body></html>")


async def sheet(conn: AsyncConnection, who: Principal, incident_id: int, tz: str) -> str:
    r = reach(who, Capability.WORK_DESK)
    row = await sql.fetchone(conn, "handover_case", {"id": incident_id, **r.params()})
    if row is None:
        raise NotFound(f"incident {incident_id} not found", field="id")
    await audit.record(conn, actor=who.actor, action="print_handover", entity="incident", entity_id=incident_id,
                       client=who.client)
    return render(dict(row), ZoneInfo(tz))
