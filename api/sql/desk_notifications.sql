-- What the caller's desks were told, newest first: notifications whose desk is one of
-- the caller's areas or lies under one of them.
SELECT n.id, n.at, n.incident_id, n.area_code, n.kind, n.data
FROM desk_notification n
WHERE CAST(:everywhere AS boolean) OR n.areas && CAST(:scope AS text[])
ORDER BY n.at DESC, n.id DESC
LIMIT :limit
