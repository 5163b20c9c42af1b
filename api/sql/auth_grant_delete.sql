DELETE FROM role_grant
WHERE user_id = :user_id AND role = :role AND (CAST(:area_code AS text) IS NULL OR area_code = CAST(:area_code AS text))
