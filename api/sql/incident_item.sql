-- One incident in the caller's reach (no row otherwise), shown in detail or coarse as the
-- caller's detail reach decides; the case file's fields come along for detailed views.
WITH visible AS (
    SELECT i.*, incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                                  CAST(:d_unit AS text)) AS detailed
    FROM incident i
    WHERE i.id = CAST(:id AS bigint)
      AND incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
)
SELECT v.id, v.detailed, v.tracking_code, v.category_code, c.name AS category_name, v.description,
       shown_coordinate(ST_X(v.location), v.detailed) AS lon, shown_coordinate(ST_Y(v.location), v.detailed) AS lat,
       v.source, v.status, v.priority, v.tier, shown_time(v.reported_at, v.detailed) AS reported_at,
       shown_time(v.due_at, v.detailed) AS due_at, shown_time(v.closed_at, v.detailed) AS closed_at,
       v.grid_code, v.community_code, v.street_code, v.district_code, v.zone_code, v.station_code,
       v.near_boundary, v.unrouted, v.rating, v.accuracy_m, v.h3_cell, v.patrol_zone_code, v.routing,
       v.reporter_contact
FROM visible v JOIN category c ON c.code = v.category_code
