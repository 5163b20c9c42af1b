-- Count one failure for a key; from the free-th failure on, lock it for base * 2^(n - free)
-- seconds (capped). Failures older than the window start the count again.
INSERT INTO auth_throttle AS t (key, failures, last_failure_at, locked_until)
VALUES (:key, 1, now(), CASE WHEN CAST(:free AS int) <= 1 THEN now() + make_interval(secs => CAST(:base_s AS int)) END)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN t.last_failure_at < now() - make_interval(secs => CAST(:window_s AS int))
                    THEN 1 ELSE t.failures + 1 END,
    last_failure_at = now(),
    locked_until = CASE
        WHEN t.last_failure_at >= now() - make_interval(secs => CAST(:window_s AS int))
             AND t.failures + 1 >= CAST(:free AS int)
        THEN now() + make_interval(secs => least(CAST(:max_s AS int),
                     CAST(:base_s AS int) * power(2, least(t.failures + 1 - CAST(:free AS int), 20))))
        ELSE NULL END
