-- The units sent to a case reported in [:start, :stop): only these can have cases in the month
-- (the KPI service is asked about them; every other unit received none).
SELECT DISTINCT a.unit_code
FROM assignment a JOIN incident i ON i.id = a.incident_id
WHERE i.reported_at >= CAST(:start AS timestamptz) AND i.reported_at < CAST(:stop AS timestamptz)
