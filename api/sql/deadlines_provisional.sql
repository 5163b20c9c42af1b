-- Open cases whose deadline is provisional (it counted a day of a year without an official
-- holiday schedule), with what recomputing it needs, locked for the recompute. With
-- :official_years, only those whose every year from the start of the clock to the deadline
-- (local years, :tz) has an official schedule now; NULL: all of them. The partial index
-- incident_open_provisional holds exactly these rows.
SELECT i.id, i.status, i.due_at, i.due_from, i.deadline_spec, i.due_paused, i.deadline_flag, i.district_code
FROM incident i
WHERE i.due_provisional AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
  AND i.due_from IS NOT NULL AND i.deadline_spec IS NOT NULL
  AND (CAST(:official_years AS int[]) IS NULL OR NOT EXISTS (
        SELECT 1
        FROM generate_series(CAST(extract(year FROM i.due_from AT TIME ZONE CAST(:tz AS text)) AS int),
                             CAST(extract(year FROM i.due_at AT TIME ZONE CAST(:tz AS text)) AS int)) AS y
        WHERE y <> ALL (CAST(:official_years AS int[]))))
ORDER BY i.id
FOR UPDATE OF i
