"""Per-case KPI facts (case_fact): one row per incident with what its event history, units, department
calls, photos and neighbours say about it, so a KPI request reads one row per case instead of
recomputing it from the history (api/sql/kpi_cases.sql).

``case_fact_compute(ids)`` is the one definition of the facts; ``case_fact_refresh(ids)`` writes
them. Statement triggers (with transition tables, like the heat rollup) call it for the cases a
statement touched, in the statement's own transaction, whoever writes: the case cycle, imports,
the sample loader, department calls, photo links, a bulk COPY. Nothing here depends on the working
calendar: working-hour durations are computed at read time from the stored timestamps, so a holiday
schedule loaded later needs no recompute. A repeat complaint depends on the earlier, closed case
nearby: a change to a case's state, close time, category or place refreshes the later reports it
may make repeats of.

Revision ID: 0027_case_facts
Revises: 0026_places
Create Date: 2026-12-08
"""
from alembic import op

revision = "0027_case_facts"
down_revision = "0026_places"
branch_labels = None
depends_on = None

# the later reports (within 100 m, same category, 30 days after the close) an incident version
# ``{v}`` may make repeat complaints: a superset (box, not circle) refreshed exactly
_NEIGHBOURS = """SELECT s.id FROM {v} e JOIN incident s
        ON s.location && ST_Expand(e.location, 100 / 90000.0) AND s.category_code = e.category_code
       AND s.reported_at > e.closed_at AND s.reported_at <= e.closed_at + interval '30 days' AND s.id <> e.id
    WHERE e.status = 'closed' AND e.closed_at IS NOT NULL"""

_TRANSITIONS = (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                ("DELETE", "OLD TABLE AS old_rows"))

# the facts of the cases ``ids``: a frozen copy of api/sql/case_fact_compute.sql (with ``ids`` for ``:ids``)
COMPUTE = """\
SELECT s.id, coalesce(ev.triaged_ever, false), ev.closed_ever, ev.handled_ever, ev.handled_at, ev.first_closed_at,
       ev.escalations, ev.extensions, ev.verification_failures, ev.reopenings, ev.rating_reopenings,
       asg.dispatched_at, asg.on_scene_at,
       calls.calls, calls.calls_answered, calls.pending_due_min, calls.pending_due_max, calls.calls_on_time,
       -- a photo linked to a unit's handling report (回单)
       EXISTS (SELECT FROM incident_attachment p JOIN incident_event pe ON pe.id = p.event_id
               WHERE p.incident_id = s.id AND pe.kind IN ('handle', 'resolve')),
       -- a later report of the same category within 100 m, within 30 days after this closed case
       EXISTS (SELECT FROM incident e
               WHERE e.location && ST_Expand(s.location, 100 / 90000.0)  -- the index (degrees, generous)
                 AND (e.category_code = s.category_code) IS TRUE
                 AND e.id <> s.id AND e.status = 'closed'
                 AND e.closed_at < s.reported_at AND e.closed_at >= s.reported_at - interval '30 days'
                 AND ST_DWithin(e.location::geography, s.location::geography, 100))
FROM incident s
LEFT JOIN LATERAL (
    SELECT bool_or(e.kind = 'triage') AS triaged_ever,
           coalesce(bool_or(e.to_status = 'closed'), false) AS closed_ever,
           coalesce(bool_or(e.to_status IN ('handled', 'closed')), false) AS handled_ever,
           -- an imported case's one event carries its final state at the time of the report: no handling time
           min(e.at) FILTER (WHERE e.to_status IN ('handled', 'closed') AND e.kind <> 'imported') AS handled_at,
           min(e.at) FILTER (WHERE e.to_status = 'closed') AS first_closed_at,
           count(*) FILTER (WHERE e.kind = 'escalate') AS escalations,
           count(*) FILTER (WHERE e.kind = 'extend') AS extensions,
           count(*) FILTER (WHERE e.kind = 'reject') AS verification_failures,
           count(*) FILTER (WHERE e.kind IN ('reopen', 'reopen_on_rating')) AS reopenings,
           count(*) FILTER (WHERE e.kind = 'reopen_on_rating') AS rating_reopenings
    FROM incident_event e WHERE e.incident_id = s.id
) ev ON true
LEFT JOIN LATERAL (
    SELECT min(a.dispatched_at) AS dispatched_at, min(a.on_scene_at) AS on_scene_at
    FROM assignment a WHERE a.incident_id = s.id
) asg ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS calls,
           count(*) FILTER (WHERE c.answered_at IS NOT NULL) AS calls_answered,
           min(c.answer_due_at) FILTER (WHERE c.answered_at IS NULL) AS pending_due_min,
           max(c.answer_due_at) FILTER (WHERE c.answered_at IS NULL) AS pending_due_max,
           coalesce(bool_and(c.answered_at IS NOT NULL
                             AND (c.answer_due_at IS NULL OR c.answered_at <= c.answer_due_at)), false)
               AS calls_on_time
    FROM department_call c WHERE c.incident_id = s.id
) calls ON true
WHERE s.id = ANY (ids)
"""


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE case_fact (
        incident_id bigint PRIMARY KEY REFERENCES incident(id) ON DELETE CASCADE,
        triaged_ever boolean NOT NULL,
        closed_ever boolean NOT NULL,
        handled_ever boolean NOT NULL,
        handled_at timestamptz,            -- the first event into handled or closed (not an import's)
        first_closed_at timestamptz,
        escalations integer NOT NULL,
        extensions integer NOT NULL,
        verification_failures integer NOT NULL,
        reopenings integer NOT NULL,
        rating_reopenings integer NOT NULL,
        dispatched_at timestamptz,         -- the first unit dispatched
        on_scene_at timestamptz,           -- the first unit on scene
        calls integer NOT NULL,            -- departments called
        calls_answered integer NOT NULL,
        calls_pending_due_min timestamptz, -- unanswered calls with a deadline: the earliest and latest
        calls_pending_due_max timestamptz, -- (decided or not is a matter of the request's time)
        calls_on_time boolean NOT NULL,    -- every call answered by its deadline
        has_handling_photo boolean NOT NULL,
        repeats_closed_case boolean NOT NULL
    );

    CREATE FUNCTION case_fact_compute(ids bigint[]) RETURNS SETOF case_fact LANGUAGE sql STABLE AS $$
{COMPUTE}    $$;

    CREATE FUNCTION case_fact_refresh(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO case_fact SELECT * FROM case_fact_compute(ids)
    ON CONFLICT (incident_id) DO UPDATE SET
        (triaged_ever, closed_ever, handled_ever, handled_at, first_closed_at, escalations, extensions,
         verification_failures, reopenings, rating_reopenings, dispatched_at, on_scene_at, calls, calls_answered,
         calls_pending_due_min, calls_pending_due_max, calls_on_time, has_handling_photo, repeats_closed_case)
      = (EXCLUDED.triaged_ever, EXCLUDED.closed_ever, EXCLUDED.handled_ever, EXCLUDED.handled_at,
         EXCLUDED.first_closed_at, EXCLUDED.escalations, EXCLUDED.extensions, EXCLUDED.verification_failures,
         EXCLUDED.reopenings, EXCLUDED.rating_reopenings, EXCLUDED.dispatched_at, EXCLUDED.on_scene_at,
         EXCLUDED.calls, EXCLUDED.calls_answered, EXCLUDED.calls_pending_due_min, EXCLUDED.calls_pending_due_max,
         EXCLUDED.calls_on_time, EXCLUDED.has_handling_photo, EXCLUDED.repeats_closed_case)
    $$;

    -- the child tables of a case (events, units sent, department calls, photos): the cases a statement touched
    CREATE FUNCTION case_fact_children() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM case_fact_refresh(ARRAY(SELECT DISTINCT incident_id FROM new_rows));
        ELSIF TG_OP = 'UPDATE' THEN
            PERFORM case_fact_refresh(ARRAY(SELECT incident_id FROM new_rows UNION SELECT incident_id FROM old_rows));
        ELSE
            PERFORM case_fact_refresh(ARRAY(SELECT DISTINCT incident_id FROM old_rows));
        END IF;
        RETURN NULL;
    END $$;

    -- incidents: their own facts when written, and the later reports a closed one may make repeats
    CREATE FUNCTION case_fact_incident() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM case_fact_refresh(ARRAY(SELECT id FROM new_rows UNION {_NEIGHBOURS.format(v="new_rows")}));
        ELSIF TG_OP = 'UPDATE' THEN
            PERFORM case_fact_refresh(ARRAY(
                WITH moved AS (
                    SELECT o.id FROM old_rows o JOIN new_rows n USING (id)
                    WHERE (o.location, o.category_code, o.reported_at)
                          IS DISTINCT FROM (n.location, n.category_code, n.reported_at)
                ), changed_old AS (
                    SELECT o.* FROM old_rows o JOIN new_rows n USING (id)
                    WHERE (o.status, o.closed_at, o.category_code, o.location)
                          IS DISTINCT FROM (n.status, n.closed_at, n.category_code, n.location)
                ), changed_new AS (
                    SELECT n.* FROM old_rows o JOIN new_rows n USING (id)
                    WHERE (o.status, o.closed_at, o.category_code, o.location)
                          IS DISTINCT FROM (n.status, n.closed_at, n.category_code, n.location)
                )
                SELECT id FROM moved
                UNION {_NEIGHBOURS.format(v="changed_old")}
                UNION {_NEIGHBOURS.format(v="changed_new")}));
        ELSE
            PERFORM case_fact_refresh(ARRAY({_NEIGHBOURS.format(v="old_rows")}));
        END IF;
        RETURN NULL;
    END $$;
    """)
    for table in ("incident_event", "assignment", "department_call", "incident_attachment"):
        for event, refs in _TRANSITIONS:
            op.execute(f"""CREATE TRIGGER case_fact_{event.lower()} AFTER {event} ON {table} REFERENCING {refs}
                FOR EACH STATEMENT EXECUTE FUNCTION case_fact_children()""")
    for event, refs in _TRANSITIONS:
        op.execute(f"""CREATE TRIGGER case_fact_{event.lower()} AFTER {event} ON incident REFERENCING {refs}
            FOR EACH STATEMENT EXECUTE FUNCTION case_fact_incident()""")
    # the backfill: every case as it stands
    op.execute("INSERT INTO case_fact SELECT * FROM case_fact_compute(ARRAY(SELECT id FROM incident))")
    op.execute("ANALYZE case_fact")


def downgrade() -> None:
    for table in ("incident_event", "assignment", "department_call", "incident_attachment", "incident"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER case_fact_{event} ON {table}")
    op.execute("""
    DROP FUNCTION case_fact_incident();
    DROP FUNCTION case_fact_children();
    DROP FUNCTION case_fact_refresh(bigint[]);
    DROP FUNCTION case_fact_compute(bigint[]);
    DROP TABLE case_fact;
    """)
