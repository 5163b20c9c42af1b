"""Official holiday schedules in the database, and provisional deadlines.

``calendar_year`` holds each year's official schedule as the administrator loaded it
(``gridgov calendar load FILE`` or ``POST /api/admin/calendar``): its days off and its weekend
days worked in exchange. Every write sends the ``gridgov_cache`` note ``{"t": "calendar"}`` from
its transaction (as migration 0013 does for sessions and areas), so each app worker forgets its
copy when the load commits.

A deadline counted on a day of a year without an official schedule is provisional
(``incident.due_provisional``, ``department_call.answer_due_provisional``); loading the year's
schedule recomputes it from ``due_from`` and ``deadline_spec``, plus the time the case stood
suspended since (``due_paused``: what resuming added to ``due_at``). The partial index lets the
scheduler find the open provisional cases each round without reading the others.

A desk notification may concern no case: the warning that the official data runs out.

Revision ID: 0019_calendar_schedule
Revises: 0018_area_web_mercator
Create Date: 2026-12-07
"""
from alembic import op

revision = "0019_calendar_schedule"
down_revision = "0018_area_web_mercator"
branch_labels = None
depends_on = None

CHANNEL = "gridgov_cache"  # api.live.hub.CACHE_CHANNEL
ENDED = "'closed', 'void', 'duplicate', 'not_responsible'"  # api.workflow.machine: states that end a case


def upgrade() -> None:
    op.execute("""
    CREATE TABLE calendar_year (
        year integer PRIMARY KEY CHECK (year BETWEEN 1950 AND 2100),
        holidays date[] NOT NULL,
        workdays date[] NOT NULL DEFAULT '{}',
        notice text,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        loaded_by text NOT NULL
    )""")
    op.execute(f"""
    CREATE OR REPLACE FUNCTION cache_calendar() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', '{{"t": "calendar"}}');
        RETURN NULL;
    END $$;
    CREATE TRIGGER calendar_year_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON calendar_year
        FOR EACH STATEMENT EXECUTE FUNCTION cache_calendar();
    """)
    op.execute("""
    ALTER TABLE incident ADD COLUMN due_provisional boolean NOT NULL DEFAULT false,
                         ADD COLUMN due_paused interval NOT NULL DEFAULT interval '0'""")
    op.execute(f"CREATE INDEX incident_open_provisional ON incident (id) "
               f"WHERE due_provisional AND status NOT IN ({ENDED})")
    op.execute("ALTER TABLE department_call ADD COLUMN answer_due_provisional boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE desk_notification ALTER COLUMN incident_id DROP NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM desk_notification WHERE incident_id IS NULL")
    op.execute("ALTER TABLE desk_notification ALTER COLUMN incident_id SET NOT NULL")
    op.execute("ALTER TABLE department_call DROP COLUMN IF EXISTS answer_due_provisional")
    op.execute("DROP INDEX IF EXISTS incident_open_provisional")
    op.execute("ALTER TABLE incident DROP COLUMN IF EXISTS due_provisional, DROP COLUMN IF EXISTS due_paused")
    op.execute("DROP TABLE IF EXISTS calendar_year")
    op.execute("DROP FUNCTION IF EXISTS cache_calendar()")
