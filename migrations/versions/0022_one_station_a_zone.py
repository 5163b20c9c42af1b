"""One linkage workstation (联动工作站) a zone (片区): ``station.zone_code`` is unique.

The routing joins a zone's station by ``zone_code``: a second station in one zone gave one point
two routing rows, and the bulk router paired rows with points by position. The domain has one
workstation serve each zone, so the database now says so.

Revision ID: 0022_one_station_a_zone
Revises: 0021_restorable_cell_box
Create Date: 2026-12-07
"""
from alembic import op

revision = "0022_one_station_a_zone"
down_revision = "0021_restorable_cell_box"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        DO $$
        DECLARE twice text;
        BEGIN
            SELECT string_agg(zone_code, ', ') INTO twice
            FROM (SELECT zone_code FROM station GROUP BY zone_code HAVING count(*) > 1) z;
            IF twice IS NOT NULL THEN
                RAISE EXCEPTION 'zones with more than one station: %; keep one station a zone, then migrate', twice;
            END IF;
        END $$;
    """)
    op.execute("DROP INDEX station_zone")
    op.execute("CREATE UNIQUE INDEX station_zone ON station (zone_code)")


def downgrade() -> None:
    op.execute("DROP INDEX station_zone")
    op.execute("CREATE INDEX station_zone ON station (zone_code)")
