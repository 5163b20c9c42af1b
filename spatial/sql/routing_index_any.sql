-- Any routing cell at all?
SELECT 1 FROM routing_cell LIMIT 1
