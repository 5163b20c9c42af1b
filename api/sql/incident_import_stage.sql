-- The staging table of one import (gridgov import-incidents), gone at commit.
CREATE TEMP TABLE incident_import (
    tracking_code text, idempotency_key text, category_code text, description text, lon float8, lat float8,
    status text, priority text, reported_at timestamptz, closed_at timestamptz, h3_cell text,
    grid_code text, community_code text, street_code text, district_code text, zone_code text, station_code text
) ON COMMIT DROP
