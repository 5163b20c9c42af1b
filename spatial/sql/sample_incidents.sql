-- The sample's reports (arrays of their columns), routed already, with their case-file events:
-- reported, and closed where they are. A key present already is skipped.
WITH x AS (
    SELECT * FROM unnest(
        CAST(:key AS text[]), CAST(:tracking AS text[]), CAST(:category AS text[]),
        CAST(:description AS text[]),
        CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:accuracy AS float8[]), CAST(:source AS text[]),
        CAST(:status AS text[]), CAST(:priority AS text[]), CAST(:reported AS timestamptz[]),
        CAST(:closed AS timestamptz[]), CAST(:rating AS int[]), CAST(:h3 AS text[]),
        CAST(:grid AS text[]), CAST(:community AS text[]), CAST(:street AS text[]), CAST(:district AS text[]),
        CAST(:zone AS text[]), CAST(:station AS text[]))
    AS t(key, tracking, category, description, lon, lat, accuracy, source, status, priority, reported,
         closed, rating, h3, grid, community, street, district, zone, station)
), ins AS (
    INSERT INTO incident (idempotency_key, tracking_code, category_code, description, location, accuracy_m,
        source, status, priority, tier, reported_at, due_from, due_at, closed_at, rating, h3_cell, grid_code,
        community_code, street_code, district_code, zone_code, station_code, unrouted, created_at)
    SELECT x.key, x.tracking, x.category, x.description, ST_SetSRID(ST_MakePoint(x.lon, x.lat), 4326),
           x.accuracy, x.source, x.status, x.priority, c.default_tier, x.reported, x.reported,
           x.reported + make_interval(hours => CAST(c.deadline_hours ->> x.priority AS int)),
           x.closed, x.rating, x.h3, x.grid, x.community, x.street, x.district, x.zone, x.station,
           x.grid IS NULL, x.reported
    FROM x JOIN category c ON c.code = x.category
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, status, reported_at, closed_at
), ev AS (
    INSERT INTO incident_event (incident_id, at, actor, kind, to_status)
    SELECT id, reported_at, 'sample', 'reported', 'received' FROM ins
    UNION ALL
    SELECT id, closed_at, 'sample', 'closed', 'closed' FROM ins WHERE closed_at IS NOT NULL
)
SELECT count(*) FROM ins
