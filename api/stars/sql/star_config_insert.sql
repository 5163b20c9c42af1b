-- A district's next configuration version.
INSERT INTO star_config (district_code, version, document, created_by)
SELECT :district, coalesce(max(version), 0) + 1, CAST(:document AS jsonb), :actor
FROM star_config WHERE district_code = :district
RETURNING district_code, version, document, created_by, created_at
