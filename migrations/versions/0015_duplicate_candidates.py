"""What a new report may be a duplicate of, as one SQL function: the intake statement asks it in
the same round trip that writes the incident (api/sql/incident_insert.sql), and
``GET /api/public/matches`` asks it before a report is filed (api/sql/duplicate_candidates.sql).

Open cases of the same category within ``radius_m`` metres reported in the last ``hours`` hours,
nearest first; nothing personal, the place to about 100 m and the hour.

Revision ID: 0015_duplicate_candidates
Revises: 0014_routing_index
Create Date: 2026-12-01
"""
from alembic import op

revision = "0015_duplicate_candidates"
down_revision = "0014_routing_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE FUNCTION duplicate_candidates(category text, lon float8, lat float8, radius_m float8,
                                         hours int, exclude_id bigint, max_rows int)
    RETURNS TABLE (id bigint, category_code text, status text, distance_m int, reported_at timestamptz,
                   lon float8, lat float8, supporters int)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT i.id, i.category_code, i.status,
               round(ST_Distance(i.location::geography, p.g::geography))::int,
               date_trunc('hour', i.reported_at),
               shown_coordinate(ST_X(i.location), false), shown_coordinate(ST_Y(i.location), false),
               i.supporters
        FROM incident i, (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326) AS g) p
        WHERE i.category_code = $1
          AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
          AND i.reported_at >= now() - make_interval(hours => $5)
          AND ST_DWithin(i.location, p.g, $4 / 111320.0 / cos(radians($3)))   -- index-friendly prefilter
          AND ST_DWithin(i.location::geography, p.g::geography, $4)
          AND ($6 IS NULL OR i.id <> $6)
        ORDER BY ST_Distance(i.location::geography, p.g::geography), i.id
        LIMIT $7
    $$;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS duplicate_candidates(text, float8, float8, float8, int, bigint, int)")
