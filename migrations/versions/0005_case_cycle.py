"""The command-room cycle: case states, tiers, deadlines, assignments, department calls,
supporters, attachments, desk notifications.

Revision ID: 0005_case_cycle
Revises: 0004_foundation_repair
Create Date: 2026-11-22
"""
from alembic import op

revision = "0005_case_cycle"
down_revision = "0004_foundation_repair"
branch_labels = None
depends_on = None

# api.workflow.machine.STATES (a test checks the two agree)
STATES = ("received", "triaged", "dispatched", "accepted", "on_scene", "handled", "verified", "closed",
          "returned", "reopened", "suspended", "void", "duplicate", "not_responsible")
ENDED = ("closed", "void", "duplicate", "not_responsible")


def _list(values) -> str:
    return ",".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.execute(f"""
    -- 'new' (intake) and 'open' (the sample) were the only states before the cycle existed
    UPDATE incident SET status = 'received' WHERE status IN ('new', 'open');
    UPDATE incident_event SET to_status = 'received' WHERE to_status IN ('new', 'open');
    ALTER TABLE incident ALTER COLUMN status SET DEFAULT 'received';
    ALTER TABLE incident ADD CONSTRAINT incident_status_known CHECK (status IN ({_list(STATES)}));
    UPDATE incident SET tier = c.default_tier FROM category c WHERE c.code = incident.category_code
        AND incident.tier IS NULL;
    ALTER TABLE incident ALTER COLUMN tier SET NOT NULL;

    ALTER TABLE incident
        ADD COLUMN suspended_from text CHECK (suspended_from IS NULL OR suspended_from IN ({_list(STATES)})),
        ADD COLUMN due_from timestamptz,             -- when the current deadline started to run
        ADD COLUMN deadline_spec text,               -- '48h' | '8wh' | '3wd' (api.workflow.calendar)
        ADD COLUMN deadline_flag text CHECK (deadline_flag IN ('near', 'overdue')),
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
    UPDATE incident SET due_from = reported_at WHERE due_at IS NOT NULL;

    -- deadlines per category × priority, in clock hours, working hours or working days
    ALTER TABLE category ADD COLUMN deadlines jsonb;
    UPDATE category SET deadlines = jsonb_build_object(
        'urgent', (deadline_hours ->> 'urgent') || 'h',
        'high', (deadline_hours ->> 'high') || 'wh',
        'normal', ceil((deadline_hours ->> 'normal')::numeric / 24)::int || 'wd',
        'low', ceil((deadline_hours ->> 'low')::numeric / 24)::int || 'wd');

    -- the live queue: open cases by deadline
    CREATE INDEX incident_open_due ON incident (due_at NULLS LAST, id)
        WHERE status NOT IN ({_list(ENDED)});
    CREATE INDEX incident_duplicate_of ON incident (duplicate_of) WHERE duplicate_of IS NOT NULL;
    CREATE INDEX incident_open_category_location ON incident USING gist (location)
        WHERE status NOT IN ({_list(ENDED)});

    -- one row per unit sent: its own dispatched -> accepted -> on scene -> cleared times
    ALTER TABLE assignment
        ADD COLUMN dispatched_by text,
        ADD COLUMN exclusive boolean NOT NULL DEFAULT true,
        ADD COLUMN cleared_reason text CHECK (cleared_reason IN
            ('handled', 'returned', 'reassigned', 'withdrawn', 'closed', 'suspended')),
        ADD COLUMN note text;
    -- a unit is on one active assignment at a time unless the desk says otherwise: the
    -- index, not a check in Python, decides a race between desks
    CREATE UNIQUE INDEX assignment_unit_active ON assignment (unit_code)
        WHERE cleared_at IS NULL AND exclusive;
    CREATE UNIQUE INDEX assignment_incident_unit_active ON assignment (incident_id, unit_code)
        WHERE cleared_at IS NULL;
    CREATE INDEX assignment_unit ON assignment (unit_code, dispatched_at DESC);

    -- 街道吹哨、部门报到 / 乡呼县应: a district department called to a case must answer in time
    CREATE TABLE department_call (
        id bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        department_code text NOT NULL REFERENCES department(code),
        called_by text NOT NULL,
        called_at timestamptz NOT NULL,
        answer_due_at timestamptz,
        answered_at timestamptz,
        answered_by text,
        overdue_flagged_at timestamptz
    );
    CREATE UNIQUE INDEX department_call_open ON department_call (incident_id) WHERE answered_at IS NULL;

    -- residents attached to a case besides its reporter: me-too, and the reporters of merged duplicates
    CREATE TABLE incident_supporter (
        id bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        via text NOT NULL CHECK (via IN ('me_too', 'merge')),
        from_incident_id bigint REFERENCES incident(id) ON DELETE CASCADE,
        token_hash text,
        joined_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_supporter_incident ON incident_supporter (incident_id);
    CREATE UNIQUE INDEX incident_supporter_token ON incident_supporter (incident_id, token_hash)
        WHERE token_hash IS NOT NULL;
    CREATE INDEX incident_supporter_from ON incident_supporter (from_incident_id) WHERE from_incident_id IS NOT NULL;

    -- photos by content (EXIF stripped before storage), linked to a case and an event
    CREATE TABLE attachment (
        sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
        media_type text NOT NULL,
        bytes bytea NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE incident_attachment (
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        sha256 text NOT NULL REFERENCES attachment(sha256),
        event_id bigint REFERENCES incident_event(id) ON DELETE SET NULL,
        added_by text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (incident_id, sha256)
    );

    -- what a desk is told: escalations, department calls, near-expiry and overdue flags
    CREATE TABLE desk_notification (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        area_code text NOT NULL,      -- the owning desk's area at the time
        areas text[] NOT NULL,        -- it and the areas above it: whose desks see it
        kind text NOT NULL,
        data jsonb NOT NULL DEFAULT '{{}}'::jsonb
    );
    CREATE INDEX desk_notification_area ON desk_notification (area_code, at DESC);
    CREATE INDEX desk_notification_areas ON desk_notification USING gin (areas);

    -- Reach as a plain expression the planner inlines into each query (no sub-SELECT in the
    -- body, no whole-row argument): the old form was called row by row, five times slower on
    -- the queue, and could use no index. The generated array lets a GIN index find a
    -- street's or a community's cases.
    ALTER TABLE incident ADD COLUMN areas text[] GENERATED ALWAYS AS
        (ARRAY[grid_code, community_code, street_code, district_code, zone_code]) STORED;
    CREATE INDEX incident_areas ON incident USING gin (areas);
    CREATE FUNCTION unit_incident_ids(own_unit text) RETURNS bigint[] LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(incident_id), '{{}}') FROM assignment WHERE unit_code = own_unit
    $$;
    CREATE FUNCTION incident_in_reach(incident_id bigint, areas text[], everywhere boolean, scope text[],
                                      own_unit text)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT everywhere
            OR areas && scope
            OR (own_unit IS NOT NULL AND incident_id = ANY(unit_incident_ids(own_unit)))
    $$;
    CREATE OR REPLACE FUNCTION incident_in_reach(i incident, everywhere boolean, scope text[], own_unit text)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT incident_in_reach(i.id, i.areas, everywhere, scope, own_unit)
    $$;

    -- The owning desk of a case: the area at its tier, then the areas above it (whose desks
    -- may also act). A missing area (an unrouted report has no grid) passes to the next one.
    CREATE FUNCTION case_owners(tier text, grid text, community text, zone text, street text, district text)
    RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT array_remove(CASE tier
            WHEN 'grid' THEN ARRAY[grid, community, street, district]
            WHEN 'community' THEN ARRAY[community, street, district]
            WHEN 'zone' THEN ARRAY[zone, street, district]
            WHEN 'street' THEN ARRAY[street, district]
            ELSE ARRAY[district] END, NULL)
    $$;
    """)


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION case_owners(text, text, text, text, text, text);
    CREATE OR REPLACE FUNCTION incident_in_reach(i incident, everywhere boolean, scope text[], own_unit text)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT everywhere
            OR ARRAY[i.grid_code, i.community_code, i.street_code, i.district_code, i.zone_code] && scope
            OR (own_unit IS NOT NULL AND EXISTS (
                    SELECT 1 FROM assignment a WHERE a.incident_id = i.id AND a.unit_code = own_unit))
    $$;
    DROP FUNCTION incident_in_reach(bigint, text[], boolean, text[], text);
    DROP FUNCTION unit_incident_ids(text);
    ALTER TABLE incident DROP COLUMN areas;
    DROP TABLE desk_notification; DROP TABLE incident_attachment; DROP TABLE attachment;
    DROP TABLE incident_supporter; DROP TABLE department_call;
    DROP INDEX assignment_unit; DROP INDEX assignment_incident_unit_active; DROP INDEX assignment_unit_active;
    ALTER TABLE assignment DROP COLUMN dispatched_by, DROP COLUMN exclusive, DROP COLUMN cleared_reason,
        DROP COLUMN note;
    DROP INDEX incident_open_category_location; DROP INDEX incident_duplicate_of; DROP INDEX incident_open_due;
    ALTER TABLE category DROP COLUMN deadlines;
    ALTER TABLE incident DROP COLUMN suspended_from, DROP COLUMN due_from, DROP COLUMN deadline_spec,
        DROP COLUMN deadline_flag, DROP COLUMN updated_at;
    ALTER TABLE incident ALTER COLUMN tier DROP NOT NULL;
    ALTER TABLE incident DROP CONSTRAINT incident_status_known;
    UPDATE incident SET status = 'new' WHERE status NOT IN ('closed');
    ALTER TABLE incident ALTER COLUMN status SET DEFAULT 'new';
    """)
