SELECT f.id, f.period_id, f.indicator, f.owner, f.measures, f.deadline, f.status, f.progress, f.updated_at,
       p.street_code, area_lineage(p.street_code) AS lineage
FROM survey_followup f JOIN survey_period p ON p.id = f.period_id WHERE f.id = :id
