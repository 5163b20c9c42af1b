-- One request of a public client: refill its bucket (rate tokens a second, at most capacity)
-- and take a token, in one statement shared by every worker (rate_bucket, migration 0013).
-- One row: wait_s = 0 when a token was taken, else the seconds until the next one.
-- A refused request changes nothing (the refill keeps counting from the last token taken).
WITH taken AS (
    INSERT INTO rate_bucket AS b (key, tokens, at)
    VALUES (:key, CAST(:capacity AS float8) - 1, clock_timestamp())
    ON CONFLICT (key) DO UPDATE
        SET tokens = least(CAST(:capacity AS float8),
                           b.tokens + extract(epoch FROM excluded.at - b.at)::float8 * CAST(:rate AS float8)) - 1,
            at = excluded.at
        WHERE least(CAST(:capacity AS float8),
                    b.tokens + extract(epoch FROM excluded.at - b.at)::float8 * CAST(:rate AS float8)) >= 1
    RETURNING 0::float8 AS wait_s
)
SELECT wait_s FROM taken
UNION ALL
SELECT (1 - least(CAST(:capacity AS float8),
                  tokens + extract(epoch FROM clock_timestamp() - at)::float8 * CAST(:rate AS float8)))
       / CAST(:rate AS float8)
FROM rate_bucket
WHERE key = :key AND NOT EXISTS (SELECT FROM taken)
