-- One page of incidents in the caller's reach, with the number matched (also past the end).
-- Reach: everywhere/scope/unit (may list), d_everywhere/d_scope/d_unit (may see in detail);
-- rows outside the detail reach show and are filtered by coarse place and time.
-- Filters are optional (NULL = none): category, status, since, until, xmin..ymax.
WITH visible AS (
    SELECT i.*, incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean), CAST(:d_scope AS text[]),
                                  CAST(:d_unit AS text)) AS detailed
    FROM incident i
    WHERE incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (CAST(:status AS text) IS NULL OR i.status = CAST(:status AS text))
      -- index-friendly prefilters, wide enough for the coarse values (exact test below)
      AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= CAST(:since AS timestamptz))
      AND (CAST(:until AS timestamptz) IS NULL OR i.reported_at < CAST(:until AS timestamptz) + interval '1 hour')
      AND (CAST(:xmin AS float8) IS NULL OR i.location && ST_Expand(ST_MakeEnvelope(
              CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326), 0.001))
),
shown AS (
    SELECT v.*, shown_coordinate(ST_X(v.location), v.detailed) AS lon,
           shown_coordinate(ST_Y(v.location), v.detailed) AS lat,
           shown_time(v.reported_at, v.detailed) AS shown_reported_at
    FROM visible v
),
matched AS (
    SELECT * FROM shown s
    WHERE (CAST(:since AS timestamptz) IS NULL OR s.shown_reported_at >= CAST(:since AS timestamptz))
      AND (CAST(:until AS timestamptz) IS NULL OR s.shown_reported_at < CAST(:until AS timestamptz))
      AND (CAST(:xmin AS float8) IS NULL OR (s.lon BETWEEN CAST(:xmin AS float8) AND CAST(:xmax AS float8)
                                             AND s.lat BETWEEN CAST(:ymin AS float8) AND CAST(:ymax AS float8)))
)
SELECT total.number_matched, page.*
FROM (SELECT count(*) AS number_matched FROM matched) total
LEFT JOIN LATERAL (
    SELECT m.id, m.detailed, m.tracking_code, m.category_code, c.name AS category_name, m.description,
           m.lon, m.lat, m.source, m.status, m.priority, m.tier, m.shown_reported_at AS reported_at,
           shown_time(m.due_at, m.detailed) AS due_at, shown_time(m.closed_at, m.detailed) AS closed_at,
           m.grid_code, m.community_code, m.street_code, m.district_code, m.zone_code, m.station_code,
           m.near_boundary, m.unrouted, m.rating
    FROM matched m JOIN category c ON c.code = m.category_code
    ORDER BY m.reported_at DESC, m.id DESC
    LIMIT CAST(:limit AS int) OFFSET CAST(:offset AS int)
) page ON true
