-- The client app that posted a request and the token it got back (tokens/{token}); answers the
-- request's public id (its service_request_id).
UPDATE incident SET open311_client_id = :client_id, open311_token = :token WHERE id = :id RETURNING public_id
