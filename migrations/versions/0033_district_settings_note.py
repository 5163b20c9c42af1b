"""A change to a district's own settings tells every worker (gridgov_cache "calendar"), as a
loaded holiday schedule does: the workers keep both in memory (api.workflow.deadlines).

Revision ID: 0033_district_settings_note
Revises: 0030_patrols
"""

from alembic import op

revision = "0033_district_settings_note"
down_revision = "0030_patrols"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # cache_calendar() (migration 0019) sends {"t": "calendar"} on gridgov_cache
    op.execute("""
    CREATE TRIGGER district_settings_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON district_settings
        FOR EACH STATEMENT EXECUTE FUNCTION cache_calendar()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS district_settings_cache ON district_settings")
