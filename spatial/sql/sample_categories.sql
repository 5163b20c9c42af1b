-- The sample's categories; a corrected sample's deadlines reach copies loaded before.
INSERT INTO category (code, name, name_en, departments, default_tier, deadline_hours, deadlines, five_matters)
VALUES (:code, :name, :name_en, :departments, :default_tier, CAST(:deadline_hours AS jsonb),
        CAST(:deadlines AS jsonb), :five_matters)
ON CONFLICT (code) DO UPDATE SET deadlines = excluded.deadlines, deadline_hours = excluded.deadline_hours
WHERE category.deadlines IS DISTINCT FROM excluded.deadlines
