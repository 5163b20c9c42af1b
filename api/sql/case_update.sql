-- The state a transition leaves a case in (the event is written beside it).
UPDATE incident SET
    status = :status, tier = :tier, priority = :priority, suspended_from = :suspended_from,
    due_at = :due_at, due_from = :due_from, deadline_spec = :deadline_spec,
    deadline_flag = :deadline_flag, due_provisional = :due_provisional, due_paused = :due_paused,
    duplicate_of = :duplicate_of,
    closed_at = CASE WHEN :status = 'closed' THEN COALESCE(closed_at, CAST(:at AS timestamptz)) END,
    updated_at = :at
WHERE id = :id
