-- A current district by its code.
SELECT code, name FROM area WHERE code = :code AND kind = 'district' AND valid_to IS NULL
