-- The demo heartbeat's next fixes (api.demo_heartbeat): each of the given units that is on duty
-- and whose fix is older than :due_s seconds takes a step of about :step_m metres in a random
-- direction; a step that would leave its patrol zone heads for the zone's inner point instead,
-- and a unit in its zone whose way there leaves it too (a concave zone) stays where it is.
WITH due AS (
    SELECT u.code, u.position, z.geom AS zone
    FROM unit u
    LEFT JOIN area z ON z.code = u.patrol_zone_code AND z.valid_to IS NULL
    WHERE u.code = ANY(CAST(:codes AS text[])) AND u.status <> 'off_duty' AND u.position IS NOT NULL
      AND (u.position_at IS NULL OR u.position_at < now() - make_interval(secs => CAST(:due_s AS float8)))
), step AS (
    SELECT code, position, zone,
           CAST(ST_Project(CAST(position AS geography), CAST(:step_m AS float8) * (0.5 + random()),
                           random() * 2 * pi()) AS geometry) AS ahead,
           CASE WHEN zone IS NULL THEN NULL ELSE ST_PointOnSurface(zone) END AS inside
    FROM due
), toward AS (
    SELECT code, position, zone, ahead,
           CASE WHEN zone IS NULL THEN NULL
                ELSE ST_LineInterpolatePoint(ST_MakeLine(position, inside), least(1.0,
                     CAST(:step_m AS float8) / greatest(ST_Distance(CAST(position AS geography),
                                                                    CAST(inside AS geography)), 1.0)))
           END AS back
    FROM step
), next AS (
    SELECT code,
           CASE WHEN zone IS NULL OR ST_Intersects(zone, ahead) THEN ahead
                WHEN ST_Intersects(zone, back) OR NOT ST_Intersects(zone, position) THEN back
                ELSE position
           END AS p
    FROM toward
)
SELECT code, ST_X(p) AS lon, ST_Y(p) AS lat, round(CAST(5 + random() * 20 AS numeric), 1) AS accuracy_m
FROM next ORDER BY code
