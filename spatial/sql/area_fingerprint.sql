-- Changes whenever any boundary changes (an edit inserts versions and closes rows): part of
-- every tile's ETag and cache key, so an edit invalidates the tiles.
SELECT concat_ws(':', max(id), count(*) FILTER (WHERE valid_to IS NULL), extract(epoch FROM max(valid_to))) FROM area
