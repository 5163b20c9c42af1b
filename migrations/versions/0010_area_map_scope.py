"""The map-scope rule of area layers as one SQL function (GeoJSON layers, vector tiles).

Shown to a caller with areas ``scope`` are those areas, everything under them (a retired
area by its parent), their ancestors, and zones / patrol zones overlapping them; NULL scope:
everything (admin).

Revision ID: 0010_area_map_scope
Revises: 0009_incident_heat
Create Date: 2026-12-01
"""
from alembic import op

revision = "0010_area_map_scope"
down_revision = "0009_incident_heat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE FUNCTION area_in_map_scope(area_code text, area_parent text, area_kind text, area_geom geometry,
                                      scope text[])
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT scope IS NULL
            OR (ARRAY[area_code] || area_lineage(area_parent)) && scope
            OR area_code IN (SELECT unnest(area_lineage(s)) FROM unnest(scope) AS s)
            OR (area_kind IN ('zone', 'patrol_zone') AND EXISTS (
                   SELECT 1 FROM area s WHERE s.valid_to IS NULL AND s.code = ANY(scope)
                     AND s.geom && area_geom AND ST_Relate(s.geom, area_geom, '2********')))
    $$;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION area_in_map_scope(text, text, text, geometry, text[])")
