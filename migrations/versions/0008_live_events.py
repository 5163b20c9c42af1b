"""Live updates: NOTIFY from the writing transaction, so only committed changes are announced.

One notification per statement, not per row (the sample load writes 22,600 events in one
statement): the ids it wrote, as a range, for case-file events; the codes it touched for
units. Each app worker holds one LISTEN connection and reads the rows behind a notification
itself, so the payload stays far below PostgreSQL's 8,000-byte limit and carries nothing a
listener should not see.

Revision ID: 0008_live_events
Revises: 0007_area_editing
Create Date: 2026-12-01
"""
from alembic import op

revision = "0008_live_events"
down_revision = "0007_area_editing"
branch_labels = None
depends_on = None

CHANNEL = "gridgov_live"  # api.live.hub.CHANNEL
UNIT_CODES_MAX = 200      # more units in one statement: listeners reload the unit layer


def upgrade() -> None:
    op.execute(f"""
    CREATE OR REPLACE FUNCTION live_incident_events() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE lo bigint; hi bigint;
    BEGIN
        SELECT min(id), max(id) INTO lo, hi FROM new_rows;
        IF lo IS NOT NULL THEN
            PERFORM pg_notify('{CHANNEL}', json_build_object('t', 'events', 'from', lo, 'to', hi)::text);
        END IF;
        RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS incident_event_live ON incident_event;
    CREATE TRIGGER incident_event_live AFTER INSERT ON incident_event
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_incident_events();

    CREATE OR REPLACE FUNCTION live_units() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE codes text[];
    BEGIN
        SELECT array_agg(n.code ORDER BY n.code) INTO codes
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.position IS DISTINCT FROM o.position OR n.status IS DISTINCT FROM o.status
           OR n.position_at IS DISTINCT FROM o.position_at;
        IF cardinality(codes) > {UNIT_CODES_MAX} THEN
            PERFORM pg_notify('{CHANNEL}', json_build_object('t', 'units', 'all', true)::text);
        ELSIF cardinality(codes) > 0 THEN
            PERFORM pg_notify('{CHANNEL}', json_build_object('t', 'units', 'codes', codes)::text);
        END IF;
        RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS unit_live ON unit;
    CREATE TRIGGER unit_live AFTER UPDATE ON unit
        REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION live_units();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER IF EXISTS unit_live ON unit;
    DROP TRIGGER IF EXISTS incident_event_live ON incident_event;
    DROP FUNCTION IF EXISTS live_units();
    DROP FUNCTION IF EXISTS live_incident_events();
    """)
