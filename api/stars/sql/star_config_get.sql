-- A district's star configuration of one version (NULL: its newest).
SELECT district_code, version, document, created_by, created_at
FROM star_config
WHERE district_code = :district AND (CAST(:version AS integer) IS NULL OR version = CAST(:version AS integer))
ORDER BY version DESC
LIMIT 1
