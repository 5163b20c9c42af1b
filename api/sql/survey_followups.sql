-- A period's follow-up items (整改事项), by deadline; the owner's name from the departments or units.
SELECT f.id, f.period_id, f.indicator, f.owner, coalesce(d.name, u.name) AS owner_name,
       coalesce(d.name_en, d.name, u.name) AS owner_name_en, f.measures, f.deadline, f.status, f.progress,
       f.updated_at
FROM survey_followup f
LEFT JOIN department d ON d.code = f.owner
LEFT JOIN unit u ON u.code = f.owner
WHERE f.period_id = :period
ORDER BY f.deadline, f.id
