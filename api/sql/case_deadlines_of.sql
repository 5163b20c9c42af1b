-- The deadline, its mark and its flag of some cases, locked (a recompute that changes only their
-- department call's answer deadline writes these back as they are).
SELECT i.id, i.due_at, i.due_provisional, i.deadline_flag
FROM incident i
WHERE i.id = ANY (CAST(:ids AS bigint[]))
ORDER BY i.id
FOR UPDATE OF i
