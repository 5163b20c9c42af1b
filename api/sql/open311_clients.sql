-- Open311 client apps with the number of requests each has posted (never their keys).
SELECT c.name, c.created_at, c.created_by, c.revoked_at,
       (SELECT count(*) FROM incident i WHERE i.open311_client_id = c.id) AS requests
FROM open311_client c ORDER BY c.name
