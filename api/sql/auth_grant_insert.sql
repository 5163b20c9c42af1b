INSERT INTO role_grant (user_id, role, area_code, granted_by) VALUES (:user_id, :role, :area_code, :granted_by)
ON CONFLICT DO NOTHING
