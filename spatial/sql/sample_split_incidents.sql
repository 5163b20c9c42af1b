-- The sample's reports made in the ground of :new before it existed belonged to :from then.
UPDATE incident SET grid_code = :from
WHERE grid_code = :new AND reported_at < CAST(:at AS timestamptz) AND idempotency_key LIKE 'sample:%'
