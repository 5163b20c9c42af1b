-- Count one failure for a key; past the free failures, lock it for base * 2^(n - free - 1)
-- seconds (capped). Failures older than the window start the count again.
INSERT INTO auth_throttle AS t (key, failures, last_failure_at) VALUES (:key, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => CAST(:window_s AS int))
                    THEN 1 ELSE t.failures + 1 END,
    last_failure_at = now(),
    locked_until = CASE
        WHEN t.last_failure_at >= now() - make_interval(secs => CAST(:window_s AS int))
             AND t.failures + 1 > CAST(:free AS int)
        THEN now() + make_interval(secs => least(CAST(:max_s AS int),
                     CAST(:base_s AS int) * power(2, least(t.failures + 1 - CAST(:free AS int) - 1, 20))))
        ELSE NULL END
