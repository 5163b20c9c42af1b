-- Staged history into incident (a row whose key was imported before adds nothing), each with
-- the first event of its case file; answers how many were inserted.
WITH inserted AS (
    INSERT INTO incident (tracking_code, idempotency_key, category_code, description, location, source, status,
                          priority, tier, reported_at, closed_at, h3_cell, grid_code, community_code, street_code,
                          district_code, zone_code, station_code, unrouted)
    SELECT s.tracking_code, s.idempotency_key, s.category_code, s.description,
           ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), 'import', s.status, s.priority, c.default_tier,
           s.reported_at, s.closed_at, s.h3_cell, s.grid_code, s.community_code, s.street_code,
           coalesce(s.district_code, left(s.grid_code, 6)), s.zone_code, s.station_code, s.grid_code IS NULL
    FROM incident_import s JOIN category c ON c.code = s.category_code
    ORDER BY s.reported_at
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, reported_at, status
), events AS (
    INSERT INTO incident_event (incident_id, at, actor, kind, to_status, data)
    SELECT id, reported_at, :actor, 'imported', status, '{"source": "import"}'::jsonb FROM inserted
    RETURNING 1
)
SELECT count(*) FROM inserted
