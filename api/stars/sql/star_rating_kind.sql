-- Which subject's month a computation rated (to find its computations, and lock them).
SELECT id, kind, subject, month FROM star_rating WHERE id = :id
