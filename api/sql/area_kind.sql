-- The kind of an area code (any version). Params: code.
SELECT kind FROM area WHERE code = :code ORDER BY version DESC LIMIT 1
