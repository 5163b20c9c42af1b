-- The live queue of the desk: cases in the caller's reach, filtered, by deadline or newest.
-- Filters are optional (NULL = none). :states lists the states wanted (every open one for the
-- live queue): an = ANY over an array lets the status index find them without a table scan.
-- The matching set stays narrow (id and the sort keys); the page's rows are read afterwards.
WITH q AS (
    SELECT i.id, i.due_at, i.reported_at
    FROM incident i
    WHERE i.status = ANY(CAST(:states AS text[]))
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
      AND (CAST(:tier AS text) IS NULL OR i.tier = CAST(:tier AS text))
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (NOT CAST(:overdue AS boolean) OR (i.due_at IS NOT NULL AND i.due_at < now()))
      AND (NOT CAST(:unrouted AS boolean) OR i.unrouted)
      AND (NOT CAST(:near_boundary AS boolean) OR i.near_boundary)
), page AS (
    SELECT q.id, row_number() OVER (
               ORDER BY CASE WHEN :sort = 'deadline' THEN q.due_at END ASC NULLS LAST,
                        CASE WHEN :sort = 'newest' THEN q.reported_at END DESC,
                        q.id DESC) AS n
    FROM q
    ORDER BY n
    LIMIT :limit OFFSET :offset
)
SELECT p.id, p.tracking_code, p.category_code, c.name AS category_name, c.name_en AS category_name_en,
       p.status, p.tier, p.priority, p.reported_at, p.due_at, p.deadline_flag,
       (p.due_at IS NOT NULL AND p.due_at < now()
        AND p.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')) AS overdue,
       p.grid_code, p.community_code, p.street_code, p.zone_code, p.unrouted, p.near_boundary,
       ST_X(p.location) AS lon, ST_Y(p.location) AS lat,
       (SELECT count(*) FROM assignment a WHERE a.incident_id = p.id AND a.cleared_at IS NULL) AS active_units,
       p.supporters,
       p.due_provisional,
       (SELECT count(*) FROM q) AS number_matched
FROM page JOIN incident p ON p.id = page.id JOIN category c ON c.code = p.category_code
ORDER BY page.n
