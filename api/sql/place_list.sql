-- Current places in the caller's reach (everywhere, or areas && scope), filtered and paged,
-- with the count before paging. Never the contact: only whether there is one.
-- Params: everywhere, scope, xmin..ymax (nullable), categories, risks, area, q, limit (null: all), offset.
WITH hits AS (
    SELECT p.* FROM place p
    WHERE p.valid_to IS NULL
      AND (CAST(:everywhere AS boolean) OR p.areas && CAST(:scope AS text[]))
      AND (CAST(:xmin AS float8) IS NULL OR p.location && ST_MakeEnvelope(CAST(:xmin AS float8),
           CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326))
      AND (CAST(:categories AS text[]) IS NULL OR p.category = ANY(CAST(:categories AS text[])))
      AND (CAST(:risks AS text[]) IS NULL OR p.risk_level = ANY(CAST(:risks AS text[])))
      AND (CAST(:area AS text) IS NULL OR CAST(:area AS text) = ANY(p.areas))
      AND (CAST(:q AS text) IS NULL OR p.name ILIKE '%' || CAST(:q AS text) || '%'
           OR p.address ILIKE '%' || CAST(:q AS text) || '%' OR p.code = CAST(:q AS text))
)
SELECT (SELECT count(*) FROM hits) AS matched, h.code, h.version, h.category, h.name, h.address, h.licences,
       h.responsible, h.contact IS NOT NULL AS has_contact, h.risk_level, ST_X(h.location) AS lon,
       ST_Y(h.location) AS lat, h.grid_code, h.community_code, h.street_code, h.district_code, h.zone_code,
       h.valid_from, h.valid_to, h.changed_by, h.reason
FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT * FROM hits ORDER BY code LIMIT :limit OFFSET :offset) h ON true
