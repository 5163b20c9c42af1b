-- A grid's counts as of a date (the same date again replaces them); returns the row before, if any.
WITH before AS (SELECT * FROM grid_aggregate WHERE grid_code = :grid AND as_of = :as_of)
INSERT INTO grid_aggregate (grid_code, as_of, households, registered_residents, non_local_residents, elderly_alone,
                            source, recorded_at, recorded_by)
VALUES (:grid, :as_of, :households, :registered_residents, :non_local_residents, :elderly_alone, :source, now(),
        :actor)
ON CONFLICT (grid_code, as_of) DO UPDATE
SET households = EXCLUDED.households, registered_residents = EXCLUDED.registered_residents,
    non_local_residents = EXCLUDED.non_local_residents, elderly_alone = EXCLUDED.elderly_alone,
    source = EXCLUDED.source, recorded_at = now(), recorded_by = EXCLUDED.recorded_by
RETURNING grid_code, as_of, households, registered_residents, non_local_residents, elderly_alone, source,
          recorded_at, recorded_by
