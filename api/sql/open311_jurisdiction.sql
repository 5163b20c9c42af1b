-- A jurisdiction_id is the code of a current district.
SELECT code, name FROM area WHERE kind = 'district' AND valid_to IS NULL AND code = :code
