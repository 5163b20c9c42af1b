-- A leader's adjustment of a computed rating, beside it (the rating is never changed).
INSERT INTO star_adjustment (rating_id, stars, reason, adjusted_by, adjusted_at)
VALUES (:rating_id, :stars, :reason, :actor, :at)
RETURNING id
