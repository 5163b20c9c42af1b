-- GeoReport v2 service requests as the public sees them: named by their public id (never the
-- reporter's tracking code); no description, contact or staff;
-- place to about 100 m and times to the hour (shown_* with detailed = false). With :ids the
-- other filters do not apply (the spec); times are compared on the hour, like the output.
SELECT i.public_id AS service_request_id, i.status, i.category_code AS service_code, c.name AS service_name,
       (SELECT string_agg(d.name, '、' ORDER BY array_position(c.departments, d.code))
        FROM department d WHERE d.code = ANY(c.departments)) AS agency_responsible,
       shown_time(i.reported_at, false) AS requested_datetime,
       shown_time(i.updated_at, false) AS updated_datetime,
       shown_time(i.due_at, false) AS expected_datetime,
       coalesce(g.name, cm.name) AS address,
       shown_coordinate(ST_Y(i.location), false) AS lat,
       shown_coordinate(ST_X(i.location), false) AS long
FROM incident i
JOIN category c ON c.code = i.category_code
LEFT JOIN area g ON g.code = i.grid_code AND g.valid_to IS NULL
LEFT JOIN area cm ON cm.code = i.community_code AND cm.valid_to IS NULL
WHERE (CAST(:district AS text) IS NULL OR i.district_code = :district)
  AND CASE WHEN CAST(:ids AS text[]) IS NOT NULL THEN i.public_id = ANY(CAST(:ids AS text[]))
           ELSE i.reported_at >= :start AND i.reported_at < :end
                AND (CAST(:codes AS text[]) IS NULL OR i.category_code = ANY(CAST(:codes AS text[])))
                AND (CAST(:states AS text[]) IS NULL OR i.status = ANY(CAST(:states AS text[])))
      END
ORDER BY i.reported_at DESC, i.id DESC
LIMIT :limit
