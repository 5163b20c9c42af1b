"""Core schema: areas with history, departments, categories, stations, units, incidents.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-21
"""
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

AREA_KINDS = "'district','street','community','grid','zone','patrol_zone'"
TIERS = "'grid','community','zone','street','district'"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(f"""
    CREATE TABLE department (
        code text PRIMARY KEY,
        name text NOT NULL,
        name_en text NOT NULL
    );

    CREATE TABLE category (
        code text PRIMARY KEY,
        name text NOT NULL,
        name_en text NOT NULL,
        departments text[] NOT NULL,
        default_tier text NOT NULL CHECK (default_tier IN ({TIERS})),
        deadline_hours jsonb NOT NULL,
        five_matters text CHECK (five_matters IN ('worry','annoyance','anxiety','emergency','hope'))
    );

    -- Every administrative and overlay polygon. History: an edit closes the current
    -- row (valid_to) and inserts the next version; `code` is the stable identity,
    -- so the tree is kept by parent_code, not by row id.
    CREATE TABLE area (
        id bigserial PRIMARY KEY,
        code text NOT NULL,
        name text NOT NULL,
        name_en text,
        kind text NOT NULL CHECK (kind IN ({AREA_KINDS})),
        parent_code text,
        department_code text REFERENCES department(code),
        attributes jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
        version integer NOT NULL DEFAULT 1,
        valid_from timestamptz NOT NULL DEFAULT now(),
        valid_to timestamptz,
        changed_by text,
        CHECK (valid_to IS NULL OR valid_to > valid_from),
        CHECK ((kind = 'patrol_zone') = (department_code IS NOT NULL))
    );
    CREATE UNIQUE INDEX area_current_code ON area (code) WHERE valid_to IS NULL;
    CREATE UNIQUE INDEX area_code_version ON area (code, version);
    CREATE INDEX area_current_geom ON area USING gist (geom) WHERE valid_to IS NULL;
    CREATE INDEX area_grid_geom ON area USING gist (geom) WHERE valid_to IS NULL AND kind = 'grid';
    CREATE INDEX area_zone_geom ON area USING gist (geom) WHERE valid_to IS NULL AND kind = 'zone';
    CREATE INDEX area_patrol_geom ON area USING gist (geom) WHERE valid_to IS NULL AND kind = 'patrol_zone';
    CREATE INDEX area_parent ON area (parent_code) WHERE valid_to IS NULL;

    CREATE VIEW area_current AS SELECT * FROM area WHERE valid_to IS NULL;

    CREATE TABLE station (
        id serial PRIMARY KEY,
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        zone_code text NOT NULL,
        departments text[] NOT NULL,
        geom geometry(Point, 4326) NOT NULL
    );
    CREATE INDEX station_zone ON station (zone_code);

    CREATE TABLE unit (
        id serial PRIMARY KEY,
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        department_code text NOT NULL REFERENCES department(code),
        station_code text REFERENCES station(code),
        patrol_zone_code text,
        status text NOT NULL DEFAULT 'off_duty' CHECK (status IN ('available','busy','off_duty')),
        position geometry(Point, 4326),
        position_at timestamptz
    );
    CREATE INDEX unit_position ON unit USING gist (position);
    CREATE INDEX unit_department ON unit (department_code, status);

    -- incidents: one row per report with its routing snapshot (一事一档 with incident_event)
    CREATE TABLE incident (
        id bigserial PRIMARY KEY,
        tracking_code text NOT NULL UNIQUE,
        idempotency_key text UNIQUE,
        request_hash text,
        category_code text NOT NULL REFERENCES category(code),
        description text NOT NULL DEFAULT '',
        location geometry(Point, 4326) NOT NULL,
        accuracy_m real,
        input_crs text NOT NULL DEFAULT 'wgs84',
        source text NOT NULL CHECK (source IN ('qr','web','grid_worker','hotline','open311','sample')),
        status text NOT NULL DEFAULT 'new',
        priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('urgent','high','normal','low')),
        tier text CHECK (tier IN ({TIERS})),
        reported_at timestamptz NOT NULL DEFAULT now(),
        due_at timestamptz,
        closed_at timestamptz,
        h3_cell text,
        grid_code text,
        community_code text,
        street_code text,
        district_code text,
        zone_code text,
        station_code text,
        patrol_zone_code text,
        near_boundary boolean NOT NULL DEFAULT false,
        unrouted boolean NOT NULL DEFAULT false,
        routing jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        duplicate_of bigint REFERENCES incident(id),
        supporters integer NOT NULL DEFAULT 0,
        rating smallint CHECK (rating BETWEEN 1 AND 5),
        reporter_contact bytea,
        reporter_token_hash text,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_location ON incident USING gist (location);
    CREATE INDEX incident_reported_at ON incident (reported_at DESC);
    CREATE INDEX incident_status ON incident (status);
    CREATE INDEX incident_street ON incident (street_code, reported_at DESC);
    CREATE INDEX incident_grid ON incident (grid_code);
    CREATE INDEX incident_category ON incident (category_code);

    CREATE TABLE incident_event (
        id bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        kind text NOT NULL,
        from_status text,
        to_status text,
        note text,
        data jsonb NOT NULL DEFAULT '{{}}'::jsonb
    );
    CREATE INDEX incident_event_incident ON incident_event (incident_id, at);

    CREATE TABLE assignment (
        id bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incident(id) ON DELETE CASCADE,
        unit_code text NOT NULL REFERENCES unit(code),
        dispatched_at timestamptz NOT NULL DEFAULT now(),
        accepted_at timestamptz,
        on_scene_at timestamptz,
        cleared_at timestamptz
    );
    CREATE INDEX assignment_incident ON assignment (incident_id);
    """)


def downgrade() -> None:
    op.execute("""
    DROP TABLE assignment; DROP TABLE incident_event; DROP TABLE incident;
    DROP TABLE unit; DROP TABLE station; DROP VIEW area_current; DROP TABLE area;
    DROP TABLE category; DROP TABLE department;
    """)
