SELECT deadlines FROM category WHERE code = :category
