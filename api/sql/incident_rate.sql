UPDATE incident SET rating = :rating
WHERE id = :id AND rating IS NULL AND status = 'closed'
RETURNING id, rating
