-- The incidents in the caller's reach that the filters match, as `listed (id, reported_at)`;
-- api.incidents appends case_page.sql, the page every list of cases is shown by.
-- Reach: everywhere/scope/unit (may list), d_everywhere/d_scope/d_unit (may see in detail);
-- rows outside the detail reach show and are filtered by coarse place and time.
-- Filters are optional (NULL = none): category, status, since, until, xmin..ymax.
-- As in desk_queue.sql, the matching set stays narrow (id and the sort keys): it is counted and
-- sorted whole, so carrying every column through it (and computing the shown values of every
-- row) cost ten times the page; the page's 50 rows are read and coarsened afterwards.
WITH listed AS (
    SELECT i.id, i.reported_at
    FROM incident i
    WHERE incident_in_reach(i.id, i.areas, CAST(:everywhere AS boolean), CAST(:scope AS text[]), CAST(:unit AS text))
      AND (CAST(:category AS text) IS NULL OR i.category_code = CAST(:category AS text))
      AND (CAST(:status AS text) IS NULL OR i.status = CAST(:status AS text))
      -- index-friendly prefilters, wide enough for the coarse values (exact test below)
      AND (CAST(:since AS timestamptz) IS NULL OR i.reported_at >= CAST(:since AS timestamptz))
      AND (CAST(:until AS timestamptz) IS NULL OR i.reported_at < CAST(:until AS timestamptz) + interval '1 hour')
      AND (CAST(:xmin AS float8) IS NULL OR i.location && ST_Expand(ST_MakeEnvelope(
              CAST(:xmin AS float8), CAST(:ymin AS float8), CAST(:xmax AS float8), CAST(:ymax AS float8), 4326), 0.001))
      -- the exact test on the values the caller is shown (coarse outside the detail reach), so
      -- that bisecting with bbox or since/until windows cannot recover what the output hides
      AND ((CAST(:since AS timestamptz) IS NULL AND CAST(:until AS timestamptz) IS NULL AND CAST(:xmin AS float8) IS NULL)
           OR EXISTS (
               SELECT FROM (SELECT shown_coordinate(ST_X(i.location), d.detailed) AS lon,
                                   shown_coordinate(ST_Y(i.location), d.detailed) AS lat,
                                   shown_time(i.reported_at, d.detailed) AS reported_at
                            FROM (SELECT incident_in_reach(i.id, i.areas, CAST(:d_everywhere AS boolean),
                                                           CAST(:d_scope AS text[]), CAST(:d_unit AS text)) AS detailed) d
                           ) s
               WHERE (CAST(:since AS timestamptz) IS NULL OR s.reported_at >= CAST(:since AS timestamptz))
                 AND (CAST(:until AS timestamptz) IS NULL OR s.reported_at < CAST(:until AS timestamptz))
                 AND (CAST(:xmin AS float8) IS NULL OR (s.lon BETWEEN CAST(:xmin AS float8) AND CAST(:xmax AS float8)
                                                        AND s.lat BETWEEN CAST(:ymin AS float8) AND CAST(:ymax AS float8)))))
)
