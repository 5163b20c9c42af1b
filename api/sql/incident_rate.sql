UPDATE incident SET rating = :rating
WHERE id = :id AND rating IS NULL AND status IN ('resolved', 'closed')
RETURNING id, rating
