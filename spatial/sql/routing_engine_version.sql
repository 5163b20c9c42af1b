-- Is an in-process copy of the routing index current? (one cheap row per bulk call)
SELECT s.version, current_database() AS db FROM routing_index_state s
