-- Every current district.
SELECT code, name FROM area WHERE kind = 'district' AND valid_to IS NULL ORDER BY code
