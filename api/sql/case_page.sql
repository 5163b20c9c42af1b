-- One page of the cases a statement lists, as the caller may see them, newest first, with the
-- number listed (also past the end): appended to a statement whose last CTE is
-- `listed (id, reported_at)` (incident_list_cases.sql, the KPI drill-downs). Only the page's rows
-- are read whole; outside the detail reach (d_everywhere/d_scope/d_unit) their place and times
-- are coarsened and the description and tracking code are left to the service to drop.
SELECT total.number_matched, page.*
FROM (SELECT count(*) AS number_matched FROM listed) total
LEFT JOIN LATERAL (
    SELECT p.id, p.detailed, p.tracking_code, p.category_code, c.name AS category_name, p.description,
           shown_coordinate(ST_X(p.location), p.detailed) AS lon, shown_coordinate(ST_Y(p.location), p.detailed) AS lat,
           p.source, p.status, p.priority, p.tier, shown_time(p.reported_at, p.detailed) AS reported_at,
           shown_time(p.due_at, p.detailed) AS due_at, shown_time(p.closed_at, p.detailed) AS closed_at,
           p.grid_code, p.community_code, p.street_code, p.district_code, p.zone_code, p.station_code,
           p.near_boundary, p.unrouted, p.rating
    FROM (SELECT l.id, l.reported_at FROM listed l
          ORDER BY l.reported_at DESC, l.id DESC
          LIMIT CAST(:limit AS int) OFFSET CAST(:offset AS int)) k
    CROSS JOIN LATERAL (
        SELECT i.*, incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                                      CAST(:d_unit AS text)) AS detailed
        FROM incident i WHERE i.id = k.id
    ) p
    JOIN category c ON c.code = p.category_code
    ORDER BY k.reported_at DESC, k.id DESC
) page ON true
