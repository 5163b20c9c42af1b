-- Store one year's official schedule (gridgov calendar load, POST /api/admin/calendar); a year
-- loaded before is replaced. The table's trigger tells every worker (gridgov_cache "calendar").
INSERT INTO calendar_year (year, holidays, workdays, notice, loaded_at, loaded_by)
VALUES (:year, CAST(:holidays AS date[]), CAST(:workdays AS date[]), :notice, :at, :actor)
ON CONFLICT (year) DO UPDATE
SET holidays = EXCLUDED.holidays, workdays = EXCLUDED.workdays, notice = EXCLUDED.notice,
    loaded_at = EXCLUDED.loaded_at, loaded_by = EXCLUDED.loaded_by
