SELECT code, name FROM department WHERE code = :code
