-- Incidents as rows for the API; filters are optional (NULL = no filter).
-- scope: area codes the caller may see (NULL = everything); unit: only incidents
-- assigned to this unit (officers).
SELECT i.id, i.tracking_code, i.category_code, c.name AS category_name, i.description,
       ST_X(i.location) AS lon, ST_Y(i.location) AS lat, i.accuracy_m, i.source, i.status,
       i.priority, i.tier, i.reported_at, i.due_at, i.closed_at, i.h3_cell,
       i.grid_code, i.community_code, i.street_code, i.district_code, i.zone_code,
       i.station_code, i.patrol_zone_code, i.near_boundary, i.unrouted, i.rating,
       i.routing, i.reporter_contact, count(*) OVER () AS number_matched
FROM incident i JOIN category c ON c.code = i.category_code
WHERE (CAST(:id AS bigint) IS NULL OR i.id = CAST(:id AS bigint))
  AND (CAST(:tracking_code AS text) IS NULL OR i.tracking_code = CAST(:tracking_code AS text))
  AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
  AND (CAST(:status AS text) IS NULL OR i.status = CAST(:status AS text))
  AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR i.reported_at < CAST(:until AS timestamptz))
  AND (CAST(:xmin AS float8) IS NULL OR i.location && ST_MakeEnvelope(
          CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326))
  AND (CAST(:scope AS text[]) IS NULL OR ARRAY[i.grid_code, i.community_code, i.street_code,
          i.district_code, i.zone_code] && CAST(:scope AS text[]))
  AND (CAST(:unit AS text) IS NULL OR EXISTS (
          SELECT 1 FROM assignment a WHERE a.incident_id = i.id AND a.unit_code = CAST(:unit AS text)))
ORDER BY i.reported_at DESC, i.id DESC
LIMIT CAST(:limit AS int) OFFSET CAST(:offset AS int)
