-- Whether a code names a department or a unit (the owner of a follow-up item).
SELECT EXISTS (SELECT 1 FROM department WHERE code = :code) OR EXISTS (SELECT 1 FROM unit WHERE code = :code)
