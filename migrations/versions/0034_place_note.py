"""A write to the places register tells every worker (gridgov_cache "places"): the workers keep
the places tiles they drew (api.tiles.service.place_tile) until then.

Revision ID: 0034_place_note
Revises: 0033_district_settings_note
"""

from alembic import op

revision = "0034_place_note"
down_revision = "0033_district_settings_note"
branch_labels = None
depends_on = None

CHANNEL = "gridgov_cache"  # api.live.hub.CACHE_CHANNEL


def upgrade() -> None:
    op.execute(f"""
    CREATE OR REPLACE FUNCTION cache_places() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', '{{"t": "places"}}');
        RETURN NULL;
    END $$;
    CREATE TRIGGER place_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON place
        FOR EACH STATEMENT EXECUTE FUNCTION cache_places();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS place_cache ON place")
    op.execute("DROP FUNCTION IF EXISTS cache_places()")
