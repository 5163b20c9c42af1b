"""Every KPI and integrity signal, defined once: what it counts, from which event, over which
window, what it excludes, and its SQL.

The cases of a request (scope, window, filters and the caller's reach) come from
``api/sql/kpi_cases.sql``, one row per case with its facts (``facts``). Each :class:`Part` below
is one SQL expression over those facts: a boolean (the case is counted) or a duration in
seconds (the case is measured). A KPI's numerator and denominator are parts, so its figure is
``count(*) FILTER (WHERE part)`` and its drill-down lists are the same rows ``WHERE part``:
the two cannot disagree. ``docs/kpis.md`` is generated from this module (``gridgov kpis doc``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENDED_STATES = "('closed', 'void', 'duplicate', 'not_responsible')"
WITHDRAWN = "('void', 'duplicate', 'not_responsible')"
QUICK_CLOSE_MINUTES = 10
RESPONSE_TARGET_S = 300


@dataclass(frozen=True)
class Part:
    """One column of the per-case rows: ``sql`` is an expression over ``facts`` (alias ``f``)."""

    key: str
    sql: str
    duration: bool = False  # seconds (NULL = not measured); else a boolean


PARTS: tuple[Part, ...] = (
    Part("received", "true"),
    Part("accepted", f"f.status NOT IN {WITHDRAWN} AND (f.status <> 'received' OR coalesce(f.triaged_ever, false))"),
    Part("closed", "f.status = 'closed'"),
    Part("open", f"f.status NOT IN {ENDED_STATES}"),
    Part("closed_with_deadline", "f.status = 'closed' AND f.due_at IS NOT NULL"),
    Part("closed_on_time", "f.status = 'closed' AND f.due_at IS NOT NULL AND f.closed_at <= f.due_at"),
    Part("open_overdue", f"f.status NOT IN {ENDED_STATES} AND f.due_at < CAST(:now AS timestamptz)"),
    Part("escalated", "f.escalations > 0"),
    Part("called", "f.calls > 0 AND f.calls_decided"),
    Part("called_on_time", "f.calls > 0 AND f.calls_decided AND f.calls_on_time"),
    Part("settled_grid", "f.status = 'closed' AND f.tier = 'grid'"),
    Part("settled_community", "f.status = 'closed' AND f.tier IN ('grid', 'community')"),
    Part("settled_zone", "f.status = 'closed' AND f.tier IN ('grid', 'community', 'zone')"),
    Part("settled_street", "f.status = 'closed' AND f.tier IN ('grid', 'community', 'zone', 'street')"),
    Part("response_s", "CASE WHEN f.on_scene_at >= f.dispatched_at "
                       "THEN extract(epoch FROM f.on_scene_at - f.dispatched_at) END", duration=True),
    Part("response_measured", "f.on_scene_at >= f.dispatched_at"),
    Part("response_under_5min", f"f.on_scene_at >= f.dispatched_at "
                                f"AND f.on_scene_at - f.dispatched_at < interval '{RESPONSE_TARGET_S} seconds'"),
    Part("handling_work_s", "CASE WHEN f.handled_at IS NOT NULL THEN coalesce(f.handling_work_s, 0) END",
         duration=True),
    Part("handling_measured", "f.handled_at IS NOT NULL"),
    Part("rated", "f.rating IS NOT NULL"),
    Part("satisfied", "f.rating >= 4"),
    Part("closed_ever", "f.closed_ever"),
    Part("handled_ever", "f.handled_ever"),
    Part("reopened", "f.reopenings > 0 OR f.verification_failures > 0"),
    Part("not_duplicate", "f.status <> 'duplicate'"),
    Part("repeat", "f.status <> 'duplicate' AND f.repeats_closed_case"),
    # integrity signals
    Part("dispatched_closed", "f.closed_ever AND f.dispatched_at IS NOT NULL"),
    Part("quick_close_no_photo",
         f"f.closed_ever AND f.dispatched_at IS NOT NULL AND NOT f.has_handling_photo "
         f"AND f.first_closed_at - f.dispatched_at <= interval '{QUICK_CLOSE_MINUTES} minutes'"),
    Part("closed_then_reopened", "f.closed_ever AND f.reopenings > 0"),
    Part("verification_failed", "f.verification_failures > 0"),
    Part("withdrawn_by_desk", "f.status IN ('void', 'not_responsible')"),
    Part("merged", "f.status = 'duplicate'"),
    Part("extended_twice", "f.extensions >= 2"),
)
PART_BY_KEY = {p.key: p for p in PARTS}


@dataclass(frozen=True)
class Kpi:
    """A figure as a leader reads it.

    ``kind``: ``count`` (the value is the numerator; the denominator is what it is out of),
    ``rate`` (numerator / denominator), ``duration`` (the median of the ``measure`` part over the
    denominator's cases, with p90 and the mean).
    """

    key: str
    name_zh: str
    name_en: str
    kind: str
    denominator: str
    numerator: str | None
    counts: str            # what is counted
    event: str             # from which event or field
    excludes: str          # what is left out
    window: str = "reported in the window [from, to)"
    measure: str | None = None   # duration KPIs: the part measured
    unit: str = ""
    signal: bool = False          # an integrity signal (shown beside the KPIs it can inflate)
    beside: tuple[str, ...] = field(default_factory=tuple)  # signals: the KPIs they can inflate
    note: str = ""

    def parts(self) -> list[str]:
        return [p for p in (self.numerator, self.denominator, self.measure) if p]


KPIS: tuple[Kpi, ...] = (
    Kpi("received", "接收", "Received", "count", "received", "received",
        counts="every report", event="the report (incident.reported_at)",
        excludes="nothing: duplicates, voids and reports found not ours are received too", unit="cases"),
    Kpi("accepted", "受理", "Accepted", "rate", "received", "accepted",
        counts="reports taken on as cases: triaged by a desk (or past triage), and not void, merged as a duplicate "
               "or found not ours", event="the triage event (triage), or any state after it",
        excludes="void, duplicate, not_responsible; reports still waiting at a desk that never triaged them"),
    Kpi("closed", "办结", "Closed", "count", "accepted", "closed",
        counts="accepted cases now closed (销号)", event="the close event (case state closed, incident.closed_at)",
        excludes="cases reopened after closing until they are closed again", unit="cases"),
    Kpi("closure_rate", "办结率", "Closure rate", "rate", "accepted", "closed",
        counts="closed / accepted", event="state closed",
        excludes="reports not accepted (void, duplicate, not ours, untriaged)"),
    Kpi("on_time_rate", "按期办结率", "On-time closure rate", "rate", "closed_with_deadline", "closed_on_time",
        counts="closed cases closed at or before their deadline (closed_at <= due_at)",
        event="the close event against incident.due_at",
        excludes="closed cases without a deadline (a category without one)",
        note="The deadline is counted on the working calendar at intake (public holidays off, swapped working "
             "days on: api.workflow.calendar). Time suspended (挂起) does not count: resuming moves the deadline "
             "by the paused time. An extension (extend) moves the deadline too (see the signal "
             "extended_twice). Reopening restarts the deadline from the reopening. The drill-down `rest` lists "
             "the late cases."),
    Kpi("open_overdue", "超期未办结", "Open overdue", "count", "open", "open_overdue",
        counts="open cases past their deadline now", event="incident.due_at against the current time",
        excludes="ended cases (closed, void, duplicate, not ours); cases without a deadline",
        window="reported in the window; overdue as of the request's time", unit="cases"),
    Kpi("escalations", "上报升级", "Escalations", "count", "received", "escalated",
        counts="cases escalated to a higher tier at least once", event="the escalate event",
        excludes="hand-downs (hand_down)", unit="cases"),
    Kpi("department_on_time", "部门报到率", "Departments answering on time", "rate", "called", "called_on_time",
        counts="cases whose called departments all answered by the answer deadline (街道吹哨、部门报到)",
        event="department_call.answered_at against answer_due_at",
        excludes="cases with a call still open and not yet due (undecided); cases no department was called to"),
    Kpi("settled_grid", "解决在网格", "Settled in the grid", "rate", "closed", "settled_grid",
        counts="closed cases whose tier at closing is the grid (微事不出格)", event="incident.tier of closed cases",
        excludes="cases not closed"),
    Kpi("settled_community", "解决在村社及以下", "Settled at community level or below", "rate", "closed",
        "settled_community", counts="closed cases at the grid or community tier (小事不出村)",
        event="incident.tier of closed cases", excludes="cases not closed"),
    Kpi("settled_zone", "解决在片区及以下", "Settled at zone level or below", "rate", "closed", "settled_zone",
        counts="closed cases at the grid, community or zone tier (难事不出片)", event="incident.tier of closed cases",
        excludes="cases not closed"),
    Kpi("settled_street", "解决在街道及以下", "Settled at street level or below", "rate", "closed", "settled_street",
        counts="closed cases not escalated to the district (矛盾不上交; the seed's 99.47%)",
        event="incident.tier of closed cases", excludes="cases not closed"),
    Kpi("response_time", "响应时间", "Response time (dispatched → on scene)", "duration", "response_measured", None,
        measure="response_s", unit="seconds",
        counts="the time from the first unit dispatched to the first unit on scene: median (p50), p90, mean",
        event="assignment.dispatched_at and on_scene_at (the dispatch and arrive events)",
        excludes="cases no unit reached (never dispatched, or no arrival recorded)"),
    Kpi("response_under_5min", "5分钟到场率", "On scene within 5 minutes", "rate", "response_measured",
        "response_under_5min", counts="measured cases with a unit on scene less than 5 minutes after dispatch",
        event="assignment.dispatched_at and on_scene_at", excludes="cases no unit reached"),
    Kpi("handling_time", "办理时长（工作时间）", "Handling time in working hours", "duration", "handling_measured",
        None, measure="handling_work_s", unit="seconds",
        counts="working time from the report to the first handling report (handled; for cases closed without "
               "one, such as imported history, the close): median, p90, mean",
        event="incident.reported_at to the first event into handled (or closed)",
        excludes="cases not yet handled; time outside office hours, weekends and public holidays "
                 "(swapped working days count)"),
    Kpi("satisfaction", "满意率", "Satisfaction", "rate", "rated", "satisfied",
        counts="ratings of 4 or 5 stars of all ratings", event="the resident's rating (incident.rating)",
        excludes="cases not rated"),
    Kpi("rating_participation", "评价参与率", "Rating participation", "rate", "closed_ever", "rated",
        counts="cases ever closed that the resident rated", event="incident.rating",
        excludes="cases never closed"),
    Kpi("reopen_rate", "重办率", "Reopen rate", "rate", "handled_ever", "reopened",
        counts="handled or closed cases sent back: a failed verification (reject), a desk's reopening or an "
               "unsatisfied rating (reopen_on_rating)", event="the reject, reopen and reopen_on_rating events",
        excludes="cases never handled or closed"),
    Kpi("repeat_complaints", "重复投诉", "Repeat complaints", "rate", "not_duplicate", "repeat",
        counts="reports of the same category within 100 m and 30 days after a closed case (the earlier case may lie "
               "outside the caller's reach; only the later report is counted)",
        event="incident.closed_at of the earlier case, reported_at and location of the later",
        excludes="reports merged as duplicates (already joined to their case)"),
    # ------------------------------------------------------------ integrity signals
    Kpi("quick_close_no_photo", "派单后速结且无照片", "Closed within minutes of dispatch, no photo", "count",
        "dispatched_closed", "quick_close_no_photo", signal=True, beside=("closure_rate", "on_time_rate"),
        counts=f"dispatched cases closed within {QUICK_CLOSE_MINUTES} minutes of the first dispatch with no photo "
               f"linked to a handling report", event="the first dispatch, the first close, handling photos",
        excludes="cases closed at the desk without dispatch", unit="cases"),
    Kpi("closed_then_reopened", "办结后重开", "Closed, then reopened", "count", "closed_ever", "closed_then_reopened",
        signal=True, beside=("closure_rate", "satisfaction"),
        counts="cases closed at least once and later reopened (by a desk or an unsatisfied rating)",
        event="the close and reopen / reopen_on_rating events", excludes="cases never closed", unit="cases"),
    Kpi("verification_failures", "核查不通过", "Verification failures", "count", "handled_ever", "verification_failed",
        signal=True, beside=("closure_rate",), counts="handled cases whose verification failed (reject) at least once",
        event="the reject event", excludes="cases never handled", unit="cases"),
    Kpi("withdrawn_by_desk", "作废与非本部门", "Voided or found not ours", "count", "received", "withdrawn_by_desk",
        signal=True, beside=("accepted", "closure_rate"),
        counts="reports the desk voided or found not its own; per desk that would own them (the area at the "
               "case's tier): GET /api/kpis/areas?level=desk",
        event="the void and not_responsible events (state)", excludes="nothing", unit="cases"),
    Kpi("merged_duplicates", "合并为重复", "Merged as duplicates", "count", "received", "merged",
        signal=True, beside=("repeat_complaints", "received"),
        counts="reports merged into another case (a merge can hide a repeat complaint)",
        event="the merge event (state duplicate)", excludes="reports unmerged since", unit="cases"),
    Kpi("extended_twice", "多次延期", "Deadline extended more than once", "count", "received", "extended_twice",
        signal=True, beside=("on_time_rate", "open_overdue"),
        counts="cases whose deadline was extended two or more times", event="the extend event",
        excludes="single extensions", unit="cases"),
)
KPI_BY_KEY = {k.key: k for k in KPIS}

# what the figures cannot see, said in the docs rather than papered over
LIMITS = (
    "Every signal above has its event: dispatch and close (quick closes), handling photos (linked to "
    "the unit's handle event), reopen / reopen_on_rating, reject, void / not_responsible, merge, extend. None "
    "is left out for want of an event.",
    "History loaded in bulk has no dispatch, arrival or handling report: the sample keeps the report and the "
    "close, so response time and the quick-close signal are empty over it and its handling time runs from the "
    "report to the close; a file imported with `gridgov import-incidents` keeps one event (imported) in its final "
    "state, so its cases count as received, accepted, closed and so on, but are not measured for handling time.",
    "A desk that resolves a case itself (resolve) attaches no photo: the quick-close signal looks at dispatched "
    "cases only.",
    "A merge that hides a repeat is counted as a merge (merged_duplicates); whether the merged report would have "
    "been a repeat complaint is not worked out.",
    "Figures that depend on the current time (open overdue, undecided department calls) are as of each request: "
    "a figure and its list asked for a moment apart can differ by a case crossing its deadline in between.",
)

for _k in KPIS:
    assert all(p in PART_BY_KEY for p in _k.parts()), _k.key
    assert not _k.measure or PART_BY_KEY[_k.measure].duration, _k.key
    assert all(b in KPI_BY_KEY for b in _k.beside), _k.key
