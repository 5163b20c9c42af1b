SELECT 1 FROM area WHERE code = :code AND valid_to IS NULL
