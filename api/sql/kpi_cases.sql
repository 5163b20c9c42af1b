-- The cases a KPI request counts, one row each, with the facts every KPI is defined on
-- (api.kpi.definitions turns the facts into one boolean or duration column per KPI part: the
-- figures are aggregates of those columns and the drill-down lists filter on them, so a
-- figure and its list come from the same predicate and cannot disagree).
--
-- Scope: the caller's reach over areas (``incident_in_reach`` with the KPI reach, no own-unit
-- reach), intersected with the optional filters (NULL = none): an area code of any level (the
-- case's grid, community, street, district or zone), a category, a department (called to the
-- case, or owning a unit sent to it) and a unit (sent to it).
-- Window: reported in [:start, :stop) (whole hours: the same set whether the caller sees
-- exact times or times to the hour).
-- Working time (handling in working hours): the official calendar from :cal_first on, one entry
-- a local day in the zone :tz: :cal_work (a working day?) and :cal_cum (the working seconds
-- before that day); office hours start at :day_start and last :office_s seconds.
WITH scoped AS (
    SELECT i.id, i.reported_at, i.status, i.tier, i.due_at, i.closed_at, i.rating, i.category_code,
           i.duplicate_of, i.grid_code, i.community_code, i.street_code, i.zone_code, i.district_code
    FROM incident i
    WHERE i.reported_at >= CAST(:start AS timestamptz) AND i.reported_at < CAST(:stop AS timestamptz)
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(NULL AS text))
      AND (CAST(:area AS text) IS NULL OR i.areas @> ARRAY[CAST(:area AS text)])
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (CAST(:department AS text) IS NULL
           OR EXISTS (SELECT FROM department_call c
                      WHERE c.incident_id = i.id AND c.department_code = CAST(:department AS text))
           OR EXISTS (SELECT FROM assignment a JOIN unit u ON u.code = a.unit_code
                      WHERE a.incident_id = i.id AND u.department_code = CAST(:department AS text)))
      AND (CAST(:unit AS text) IS NULL
           OR EXISTS (SELECT FROM assignment a WHERE a.incident_id = i.id AND a.unit_code = CAST(:unit AS text)))
), base AS (
    -- the case's facts as the one code path that writes a case keeps them (case_fact, migration
    -- 0027: triggers on incident, incident_event, assignment, department_call, incident_attachment)
    SELECT s.*, cf.triaged_ever, cf.closed_ever, cf.handled_ever, cf.handled_at, cf.first_closed_at,
           cf.escalations, cf.extensions, cf.verification_failures, cf.reopenings, cf.rating_reopenings,
           cf.dispatched_at, cf.on_scene_at, cf.calls, cf.calls_on_time, cf.has_handling_photo, cf.repeats_closed_case,
           -- every call answered, or its answer deadline passed (decided either way): none pending and
           -- due later, and at least one answered or past due
           (cf.calls_pending_due_max IS NULL OR cf.calls_pending_due_max < CAST(:now AS timestamptz))
             AND (cf.calls_answered > 0 OR cf.calls_pending_due_min < CAST(:now AS timestamptz)) AS calls_decided
    FROM scoped s
    LEFT JOIN case_fact cf ON cf.incident_id = s.id
), facts AS (
    SELECT b.*,
           -- the working seconds from the report to the first handling report: the working time
           -- elapsed by each moment (before its local day, plus the office time of that day so far),
           -- looked up in the calendar's per-day arrays (an expression, not a join: joined, the
           -- planner probed the calendar once per case)
           ((CAST(:cal_cum AS float8[]))[(b.handled_at AT TIME ZONE CAST(:tz AS text))::date
                                        - CAST(:cal_first AS date) + 1]
            + CASE WHEN (CAST(:cal_work AS boolean[]))[(b.handled_at AT TIME ZONE CAST(:tz AS text))::date
                                                       - CAST(:cal_first AS date) + 1]
                   THEN least(greatest(extract(epoch FROM (b.handled_at AT TIME ZONE CAST(:tz AS text))::time
                                                          - CAST(:day_start AS time)), 0), CAST(:office_s AS float8))
                   ELSE 0 END)
           - ((CAST(:cal_cum AS float8[]))[(b.reported_at AT TIME ZONE CAST(:tz AS text))::date
                                        - CAST(:cal_first AS date) + 1]
            + CASE WHEN (CAST(:cal_work AS boolean[]))[(b.reported_at AT TIME ZONE CAST(:tz AS text))::date
                                                       - CAST(:cal_first AS date) + 1]
                   THEN least(greatest(extract(epoch FROM (b.reported_at AT TIME ZONE CAST(:tz AS text))::time
                                                          - CAST(:day_start AS time)), 0), CAST(:office_s AS float8))
                   ELSE 0 END) AS handling_work_s
    FROM base b
)
