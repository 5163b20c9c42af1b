-- One computed rating (a recomputation adds a row: the newest of a subject's month is shown).
INSERT INTO star_rating (kind, subject, month, district_code, areas, config_version, cases, rated, unrated_reason,
                         score, stars, breakdown, computed_at, computed_by)
VALUES (:kind, :subject, :month, :district, CAST(:areas AS text[]), :version, :cases, :rated, :unrated_reason,
        :score, :stars, CAST(:breakdown AS jsonb), :computed_at, :actor)
RETURNING id
