-- The roles an account holds (over any area), for the scraper token's check.
SELECT DISTINCT role FROM role_grant WHERE user_id = :user_id ORDER BY role
