-- The official holiday schedules loaded into the database (api.workflow.deadlines), by year.
SELECT year, holidays, workdays, notice, loaded_at, loaded_by FROM calendar_year ORDER BY year
