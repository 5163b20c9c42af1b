-- A reporter's view of their case: no personal data, location to about 100 m.
SELECT i.id, i.tracking_code, i.category_code, c.name AS category_name, i.status, i.reported_at,
       i.closed_at, i.due_at, shown_coordinate(ST_X(i.location), false) AS lon,
       shown_coordinate(ST_Y(i.location), false) AS lat, i.rating, i.reporter_token_hash,
       (SELECT coalesce(json_agg(json_build_object('id', s.id, 'token_hash', s.token_hash)), '[]'::json)
        FROM incident_supporter s WHERE s.incident_id = i.id AND s.token_hash IS NOT NULL) AS supporters,
       (SELECT o.tracking_code FROM incident o WHERE o.id = i.duplicate_of) AS merged_into,
       (SELECT coalesce(json_agg(json_build_object('at', e.at, 'kind', e.kind, 'status', e.to_status)
                                 ORDER BY e.at, e.id), '[]'::json)
        FROM incident_event e WHERE e.incident_id = i.id AND e.kind <> 'read_contact') AS events
FROM incident i JOIN category c ON c.code = i.category_code
WHERE i.tracking_code = :tracking_code
