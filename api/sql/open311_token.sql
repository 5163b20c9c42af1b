-- The request a token stands for (tokens/{token}).
SELECT public_id AS service_request_id, open311_token AS token, district_code
FROM incident WHERE open311_token = :token
