"""``docs/kpis.md``, written from the definitions (``gridgov kpis doc --out docs/kpis.md``)."""

from __future__ import annotations

from api.kpi import definitions as d
from api.kpi.service import MAX_WINDOW_DAYS, cases_sql, facts_sql

KINDS = {"count": "a count of cases", "rate": "numerator / denominator",
         "duration": "median (p50), p90 and mean over the cases measured"}


def _part(key: str | None) -> str:
    if key is None:
        return "—"
    return f"`{key}`: `{d.PART_BY_KEY[key].sql}`"


def _entry(k: d.Kpi) -> list[str]:
    lines = [f"### {k.name_zh} · {k.name_en} (`{k.key}`)", "",
             f"- **Kind**: {k.kind} ({KINDS[k.kind]})",
             f"- **Counts**: {k.counts}",
             f"- **From**: {k.event}",
             f"- **Window**: {k.window}",
             f"- **Excludes**: {k.excludes}"]
    if k.beside:
        lines.append(f"- **Shown beside**: {', '.join(f'`{b}`' for b in k.beside)}")
    lines += [f"- **Numerator**: {_part(k.numerator)}", f"- **Denominator**: {_part(k.denominator)}"]
    if k.measure:
        lines.append(f"- **Measure** (seconds): {_part(k.measure)}")
    if k.note:
        lines += ["", k.note]
    return lines + [""]


def render() -> str:
    """The whole document (Markdown)."""
    out = [
        "# KPIs (绩效指标)", "",
        "<!-- generated from api/kpi/definitions.py by `gridgov kpis doc --out docs/kpis.md`; do not edit -->", "",
        "Every figure below is served by `GET /api/kpis` (all at once),",
        "`GET /api/kpis/{key}/series?by=day|week|month`,",
        "`GET /api/kpis/areas?level=street` (every area of a level at once) and exported by `GET /api/kpis.csv` /",
        "`GET /api/kpis.xlsx`. Each figure links to the cases it counted: `GET /api/kpis/{key}/cases?part=numerator`,",
        "`part=denominator`, or `part=rest` (in the denominator and not in the numerator: the late cases of the",
        "on-time rate). The list and the figure come from the same SQL predicate, so `numberMatched` of the list",
        "equals the figure for the same parameters.", "",
        "## Scope and window", "",
        "- **Window**: a case counts when it was reported in `[from, to)` (`incident.reported_at`), whatever the KPI;",
        "  later events of those cases (closing, rating, reopening) count whenever they happened, up to the request.",
        f"  `from` and `to` are dates or whole hours (default: the year up to tomorrow), at most {MAX_WINDOW_DAYS}",
        "  days apart. Whole hours make the same cases count for callers who see exact times and for those who see",
        "  times to the hour (analysts).",
        "- **Scope**: the caller's reach over areas (capability `read_kpis`: dispatchers, analysts, grid managers",
        "  over their granted areas; admins everywhere) **intersected** with the filters: `area` (any grid,",
        "  community, street, zone or district code the case lies in), `category`, `department` (called to the",
        "  case, or owning a unit sent to it), `unit` (sent to it). A dispatcher of one street asking for the",
        "  district gets the figures of their street, and the drill-down lists those same cases. An unknown code",
        "  is a 422 naming the field; an unknown KPI a 404.",
        "- **Per area**: `GET /api/kpis/areas?level=grid|community|zone|street|district|desk` gives every KPI",
        "  per area of the level in one query (`desk`: the area whose desk owns the case at its tier).",
        "- **Trends**: `by=day|week|month` groups by the local date of the report (weeks start on Monday);",
        "  periods without cases are left out.",
        "- **Drill-down lists** show cases as `/api/incidents` does: outside the caller's detail reach, the place",
        "  to about 100 m and times to the hour, without description or tracking code.",
        "",
        "## KPIs", "",
    ]
    for k in d.KPIS:
        if not k.signal:
            out += _entry(k)
    out += ["## Integrity signals", "",
            "Counts that can inflate a KPI when gamed, each with its drill-down, shown beside the KPIs it can",
            "inflate (`beside`).", ""]
    for k in d.KPIS:
        if k.signal:
            out += _entry(k)
    out += ["## Limits", ""]
    out += [f"- {n}" for n in d.LIMITS] + [""]
    out += ["## The per-case SQL", "",
            "One row per case in scope and window, with its facts (`facts`) and one column per part",
            "(`cases`); the figures aggregate these columns and the lists filter on them.", "",
            "```sql", cases_sql().rstrip(), "```", "",
            "## The per-case facts (case_fact)", "",
            "What each case's history says (events, units sent, department calls, photos, earlier closed cases",
            "nearby) is kept in `case_fact`, one row per case, written in the same transaction as whatever",
            "changed the case (triggers on `incident`, `incident_event`, `assignment`, `department_call` and",
            "`incident_attachment`), and read by the SQL above (`base`). Working-hour durations are not kept: they are",
            "computed from the stored times on the calendar of the request, so a holiday schedule loaded later",
            "counts at once. A rebuilt table equals the kept one (tests/test_case_facts.py).", "",
            "```sql", facts_sql().rstrip(), "```", ""]
    return "\n".join(out)
