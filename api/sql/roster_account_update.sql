-- An account's name and unit from a roster file.
UPDATE app_user SET display_name = :display_name, unit_code = :unit_code WHERE username = :username
