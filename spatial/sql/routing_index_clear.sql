-- Empty the routing index before a full rebuild.
DELETE FROM routing_cell
