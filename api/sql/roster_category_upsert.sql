-- A category from a roster file, added or changed (deadlines: Nh | Nwh | Nwd per priority;
-- deadline_hours: their length in hours, a working day counted as 24).
INSERT INTO category (code, name, name_en, departments, default_tier, deadlines, deadline_hours, five_matters)
VALUES (:code, :name, :name_en, CAST(:departments AS text[]), :default_tier, CAST(:deadlines AS jsonb),
        CAST(:deadline_hours AS jsonb), :five_matters)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en,
    departments = excluded.departments, default_tier = excluded.default_tier, deadlines = excluded.deadlines,
    deadline_hours = excluded.deadline_hours, five_matters = excluded.five_matters
