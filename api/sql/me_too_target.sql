-- The case a resident says "me too" to, locked: only a case that GET /api/public/matches would
-- offer at the resident's position (its public id, same rule: open, same category, near, recent),
-- with what bounds the supporters: how many me-too it has and how many this phone gave lately.
SELECT i.id, i.status, i.public_id,
       (SELECT count(*) FROM incident_supporter s WHERE s.incident_id = i.id AND s.via = 'me_too') AS me_too,
       (SELECT count(*) FROM incident_supporter s
        WHERE s.device_hash = :device_hash AND s.via = 'me_too'
          AND s.joined_at > now() - interval '1 day') AS device_today
FROM incident i
WHERE i.public_id = :public_id
  AND EXISTS (SELECT FROM duplicate_candidates(i.category_code, CAST(:lon AS float8), CAST(:lat AS float8),
                                               CAST(:radius_m AS float8), CAST(:hours AS int),
                                               CAST(NULL AS bigint), CAST(:limit AS int)) c
              WHERE c.id = i.id)
FOR UPDATE OF i
