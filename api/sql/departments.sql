SELECT code, name, name_en FROM department ORDER BY code
