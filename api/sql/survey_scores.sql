-- A period's answers summed up on the 1-5 scale: per indicator (each answer to it), per dimension
-- and for the street (each phone's mean over the indicators it answered there, so that one phone
-- counts once). n, mean and sample standard deviation; the confidence interval is the caller's.
WITH map AS (
    SELECT * FROM unnest(CAST(:indicators AS text[]), CAST(:dimensions AS text[])) AS m (indicator, dimension)
), given AS (
    SELECT a.device, m.dimension, s.key AS indicator, CAST(s.value AS numeric) AS score
    FROM survey_answer a CROSS JOIN LATERAL jsonb_each_text(a.scores) s
    JOIN map m ON m.indicator = s.key
    WHERE a.period_id = :period
), by_phone_dimension AS (
    SELECT device, dimension, avg(score) AS score FROM given GROUP BY device, dimension
), by_phone AS (
    SELECT device, avg(score) AS score FROM given GROUP BY device
)
SELECT 'indicator' AS level, indicator AS code, count(*) AS n, avg(score) AS mean, stddev_samp(score) AS sd
FROM given GROUP BY indicator
UNION ALL
SELECT 'dimension', dimension, count(*), avg(score), stddev_samp(score) FROM by_phone_dimension GROUP BY dimension
UNION ALL
SELECT 'street', NULL, count(*), avg(score), stddev_samp(score) FROM by_phone
