-- Grids whose reports came through posters signed with a rotated-out QR key (routing.qr.key
-- 'previous' or 'expired'), newest first: the posters to reprint.
SELECT i.routing #>> '{qr,grid}' AS grid_code, g.name, count(*) AS scans,
       min(i.reported_at) AS first_scan_at, max(i.reported_at) AS last_scan_at,
       count(*) FILTER (WHERE i.routing #>> '{qr,key}' = 'expired') AS refused
FROM incident i
LEFT JOIN area_current g ON g.code = i.routing #>> '{qr,grid}'
WHERE i.routing #>> '{qr,key}' IN ('previous', 'expired')
  AND i.reported_at >= coalesce(CAST(:since AS timestamptz), '-infinity')
GROUP BY 1, 2
ORDER BY max(i.reported_at) DESC, 1
