-- What a hand-over sheet (交办单) prints: the case, its places by name, its measures so far,
-- the units on it and the department called. Never the reporter's contact.
SELECT i.id, i.tracking_code, i.description, i.priority, i.tier, i.status, i.reported_at, i.due_at,
       i.deadline_spec, i.due_provisional, c.name AS category_name, c.name_en AS category_name_en,
       (SELECT name FROM area_current WHERE code = i.grid_code) AS grid_name,
       (SELECT name_en FROM area_current WHERE code = i.grid_code) AS grid_name_en,
       (SELECT name FROM area_current WHERE code = i.community_code) AS community_name,
       (SELECT name_en FROM area_current WHERE code = i.community_code) AS community_name_en,
       (SELECT name FROM area_current WHERE code = i.street_code) AS street_name,
       (SELECT name_en FROM area_current WHERE code = i.street_code) AS street_name_en,
       (SELECT name FROM area_current WHERE code = i.zone_code) AS zone_name,
       (SELECT name_en FROM area_current WHERE code = i.zone_code) AS zone_name_en,
       (SELECT coalesce(json_agg(json_build_object('at', e.at, 'actor', e.actor, 'kind', e.kind, 'note', e.note)
                                 ORDER BY e.at, e.id), '[]'::json)
        FROM incident_event e WHERE e.incident_id = i.id AND e.note IS NOT NULL
          AND e.kind IN ('triage', 'dispatch', 'reinforce', 'reassign', 'supervise', 'escalate', 'hand_down',
                         'extend', 'reject', 'reopen')) AS measures,
       (SELECT coalesce(json_agg(json_build_object('unit', u.name, 'department', d.name, 'department_en', d.name_en,
                                                   'dispatched_at', a.dispatched_at) ORDER BY a.dispatched_at), '[]'::json)
        FROM assignment a JOIN unit u ON u.code = a.unit_code JOIN department d ON d.code = u.department_code
        WHERE a.incident_id = i.id AND a.cleared_at IS NULL) AS units,
       (SELECT json_build_object('department', d.name, 'department_en', d.name_en, 'answer_due_at', dc.answer_due_at,
                                 'answer_due_provisional', dc.answer_due_provisional, 'answered_at', dc.answered_at)
        FROM department_call dc JOIN department d ON d.code = dc.department_code
        WHERE dc.incident_id = i.id ORDER BY dc.called_at DESC LIMIT 1) AS department_call
FROM incident i JOIN category c ON c.code = i.category_code
WHERE i.id = :id
  AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
