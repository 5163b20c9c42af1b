-- Insert a routed incident, its first case-file event and its audit row in one statement
-- (one round trip), and answer what it may be a duplicate of (the statement's snapshot does
-- not hold the new incident yet); a repeated idempotency key inserts nothing and returns no row.
WITH inserted AS (
    INSERT INTO incident (
        tracking_code, idempotency_key, request_hash, category_code, description, location,
        accuracy_m, input_crs, source, status, priority, tier, reported_at, due_from, due_at, deadline_spec,
        due_provisional, h3_cell,
        grid_code, community_code, street_code, district_code, zone_code, station_code,
        patrol_zone_code, near_boundary, unrouted, routing, reporter_contact, reporter_token_hash)
    SELECT :tracking_code, :idempotency_key, :request_hash, c.code, :description,
           ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :accuracy_m, :input_crs, :source,
           :status, :priority, c.default_tier, :reported_at, :due_from, :due_at, :deadline_spec,
           :due_provisional,
           :h3_cell, :grid_code, :community_code, :street_code, :district_code, :zone_code,
           :station_code, :patrol_zone_code, :near_boundary, :unrouted, CAST(:routing AS jsonb),
           :reporter_contact, :reporter_token_hash
    FROM category c WHERE c.code = :category
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
),
first_event AS (
    INSERT INTO incident_event (incident_id, at, actor, kind, to_status, data)
    SELECT id, now(), :event_actor, 'reported', :status, CAST(:event_data AS jsonb) FROM inserted
),
audited AS (
    INSERT INTO audit_log (actor, action, entity, entity_id, after, client)
    SELECT :audit_actor, 'create', 'incident', id::text, CAST(:audit_after AS jsonb), :client FROM inserted
)
SELECT inserted.id,
       (SELECT coalesce(json_agg(row_to_json(d) ORDER BY d.n), '[]'::json)
        FROM duplicate_candidates(:category, CAST(:lon AS float8), CAST(:lat AS float8),
                                  CAST(:candidates_radius_m AS float8), CAST(:candidates_hours AS int), CAST(NULL AS bigint),
                                  CAST(:candidates_limit AS int))
             WITH ORDINALITY AS d(id, public_id, category_code, status, distance_m, reported_at, lon, lat, supporters, n)
       ) AS candidates
FROM inserted
