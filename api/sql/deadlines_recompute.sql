-- Write recomputed deadlines, one row of the arrays per case, and a case-file event
-- (deadline_recomputed) for each, in one statement: the case's deadline, its mark and its
-- supervision flag; the open department call's answer deadline where :call_ids names one.
WITH changed AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:due_ats AS timestamptz[]),
                         CAST(:provisional AS boolean[]), CAST(:flags AS text[]), CAST(:call_ids AS bigint[]),
                         CAST(:answer_due_ats AS timestamptz[]), CAST(:answer_provisional AS boolean[]),
                         CAST(:answer_flagged_ats AS timestamptz[]), CAST(:data AS jsonb[]))
        AS c(id, due_at, provisional, flag, call_id, answer_due_at, answer_provisional, answer_flagged_at, data)
), cases AS (
    UPDATE incident i
    SET due_at = c.due_at, due_provisional = c.provisional, deadline_flag = c.flag,
        updated_at = CAST(:at AS timestamptz)
    FROM changed c WHERE i.id = c.id
    RETURNING i.id, i.status
), calls AS (
    UPDATE department_call d
    SET answer_due_at = c.answer_due_at, answer_due_provisional = c.answer_provisional,
        overdue_flagged_at = c.answer_flagged_at
    FROM changed c WHERE d.id = c.call_id
    RETURNING d.id
)
INSERT INTO incident_event (incident_id, at, actor, kind, from_status, to_status, data)
SELECT u.id, CAST(:at AS timestamptz), :actor, 'deadline_recomputed', u.status, u.status, c.data
FROM cases u JOIN changed c ON c.id = u.id
