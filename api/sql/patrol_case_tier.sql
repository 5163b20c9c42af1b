-- A case's tier (grid, community ...). Params: id.
SELECT tier FROM incident WHERE id = :id
