-- A period of the street whose days meet [opens, closes] (closed early ones end on their closing day).
SELECT id, opens, closes FROM survey_period
WHERE street_code = :street AND opens <= CAST(:closes AS date)
  AND coalesce(least(closes, (closed_at AT TIME ZONE :tz)::date), closes) >= CAST(:opens AS date)
ORDER BY opens LIMIT 1
