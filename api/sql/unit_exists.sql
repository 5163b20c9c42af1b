SELECT 1 FROM unit WHERE code = :code
