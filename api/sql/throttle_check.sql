-- Seconds (rounded up) until a throttled key may try again; no row when it is not locked.
SELECT ceil(extract(epoch FROM locked_until - now()))::int AS wait_s
FROM auth_throttle WHERE key = :key AND locked_until > now()
