DELETE FROM auth_throttle WHERE key = :key
