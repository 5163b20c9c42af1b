-- The live queue of the desk: cases in the caller's reach, filtered, by deadline or newest.
-- Filters are optional (NULL = none). :states lists the states wanted (every open one for the
-- live queue): an = ANY over an array lets the status index find them without a table scan.
-- Search: :code (a tracking code, the case's or a supporter's) finds its case in any state, for
-- callers who may see it in detail; :pattern (ILIKE) matches the text (detail reach only) or the
-- name of the case's grid, community or street, and :place a grid, community or street code.
-- The matching set stays narrow (id and the sort keys); the page's rows are read afterwards.
-- Rows outside the caller's detail reach (d_everywhere/d_scope/d_unit: analysts) show the place
-- to about 100 m and the times to the hour, and no tracking code or text (the rule of
-- incident_list.sql).
WITH q AS (
    SELECT i.id, i.due_at, i.reported_at
    FROM incident i
    WHERE CAST(:code AS text) IS NULL
      AND i.status = ANY(CAST(:states AS text[]))
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
      AND (CAST(:tier AS text) IS NULL OR i.tier = CAST(:tier AS text))
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (NOT CAST(:overdue AS boolean) OR (i.due_at IS NOT NULL AND i.due_at < now()))
      AND (NOT CAST(:unrouted AS boolean) OR i.unrouted)
      AND (NOT CAST(:near_boundary AS boolean) OR i.near_boundary)
      AND (CAST(:pattern AS text) IS NULL
           OR CAST(:place AS text) IN (i.grid_code, i.community_code, i.street_code)
           OR EXISTS (SELECT FROM area a WHERE a.valid_to IS NULL
                        AND a.code IN (i.grid_code, i.community_code, i.street_code)
                        AND a.name ILIKE CAST(:pattern AS text))
           OR (i.description ILIKE CAST(:pattern AS text)
               AND incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                                     CAST(:d_unit AS text))))
    UNION ALL
    SELECT i.id, i.due_at, i.reported_at
    FROM incident i
    WHERE CAST(:code AS text) IS NOT NULL
      AND i.id IN (SELECT x.id FROM incident x WHERE x.tracking_code = CAST(:code AS text)
                   UNION SELECT s.incident_id FROM incident_supporter s WHERE s.tracking_code = CAST(:code AS text))
      AND incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                            CAST(:d_unit AS text))
), page AS (
    SELECT q.id, row_number() OVER (
               ORDER BY CASE WHEN :sort = 'deadline' THEN q.due_at END ASC NULLS LAST,
                        CASE WHEN :sort = 'newest' THEN q.reported_at END DESC,
                        q.id DESC) AS n
    FROM q
    ORDER BY n
    LIMIT :limit OFFSET :offset
)
SELECT p.id, p.detailed, CASE WHEN p.detailed THEN p.tracking_code END AS tracking_code,
       p.category_code, c.name AS category_name, c.name_en AS category_name_en,
       p.status, p.tier, p.priority, shown_time(p.reported_at, p.detailed) AS reported_at,
       shown_time(p.due_at, p.detailed) AS due_at, p.deadline_flag,
       (p.due_at IS NOT NULL AND p.due_at < now()
        AND p.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')) AS overdue,
       p.grid_code, p.community_code, p.street_code, p.zone_code, p.unrouted, p.near_boundary,
       (SELECT a.name FROM area a WHERE a.code = p.grid_code AND a.valid_to IS NULL) AS grid_name,
       (SELECT a.name FROM area a WHERE a.code = p.community_code AND a.valid_to IS NULL) AS community_name,
       CASE WHEN p.detailed THEN left(p.description, 60) END AS excerpt,
       shown_coordinate(ST_X(p.location), p.detailed) AS lon, shown_coordinate(ST_Y(p.location), p.detailed) AS lat,
       (SELECT count(*) FROM assignment a WHERE a.incident_id = p.id AND a.cleared_at IS NULL) AS active_units,
       p.supporters,
       p.due_provisional,
       (SELECT count(*) FROM q) AS number_matched
FROM page
CROSS JOIN LATERAL (
    SELECT i.*, incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                                  CAST(:d_unit AS text)) AS detailed
    FROM incident i WHERE i.id = page.id
) p
JOIN category c ON c.code = p.category_code
ORDER BY page.n
