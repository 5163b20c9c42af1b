-- The sample units' simulated GPS heartbeat: each gets a fix of its sample age again.
UPDATE unit u SET position_at = now() - make_interval(secs => x.age)
FROM unnest(CAST(:code AS text[]), CAST(:age AS float8[])) AS x(code, age)
WHERE u.code = x.code
