"""Joint inspections (综合查一次): each department's checklist per place category (versioned: a
new version never rewrites the visits made against an old one), plans of a joint team for a zone
and a day, their visits in order, each department's check of a visit, the photos, and the
findings that became cases (source 'inspection', the place attached). The default checklists of
the sample's categories are loaded from api/inspections/default_checklists.json.

Revision ID: 0029_inspections
Revises: 0028_stars
Create Date: 2026-12-08
"""
import json
from importlib import resources

from alembic import op

revision = "0029_inspections"
down_revision = "0028_stars"
branch_labels = None
depends_on = None

SOURCES = "'qr','web','grid_worker','hotline','open311','sample','import'"


def upgrade() -> None:
    op.execute(f"""
    ALTER TABLE incident DROP CONSTRAINT incident_source_check;
    ALTER TABLE incident ADD CONSTRAINT incident_source_check CHECK (source IN ({SOURCES},'inspection'));

    CREATE TABLE checklist (
        id serial PRIMARY KEY,
        department_code text NOT NULL REFERENCES department(code),
        category text NOT NULL,                  -- a place category (api.places.catalogue)
        version integer NOT NULL CHECK (version >= 1),
        case_category text NOT NULL REFERENCES category(code),  -- what a failed item becomes
        items jsonb NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) >= 1),
        valid_from timestamptz NOT NULL DEFAULT now(),
        valid_to timestamptz,
        changed_by text NOT NULL,
        UNIQUE (department_code, category, version)
    );
    CREATE UNIQUE INDEX checklist_current ON checklist (department_code, category) WHERE valid_to IS NULL;

    CREATE TABLE inspection_plan (
        id bigserial PRIMARY KEY,
        zone_code text NOT NULL,
        station_code text NOT NULL REFERENCES station(code),
        day date NOT NULL,
        areas text[] NOT NULL,                   -- the zone and the areas above it (scope)
        team text[] NOT NULL CHECK (cardinality(team) >= 1),
        departments text[] NOT NULL,
        route_m double precision NOT NULL,
        naive_m double precision NOT NULL,
        left_out integer NOT NULL DEFAULT 0,     -- due places the day could not fit
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX inspection_plan_zone_day ON inspection_plan (zone_code, day);
    CREATE INDEX inspection_plan_team ON inspection_plan USING gin (team);

    CREATE TABLE inspection_visit (
        id bigserial PRIMARY KEY,
        plan_id bigint NOT NULL REFERENCES inspection_plan(id) ON DELETE CASCADE,
        seq integer NOT NULL CHECK (seq >= 1),
        place_code text NOT NULL,
        departments text[] NOT NULL CHECK (cardinality(departments) >= 1),
        overdue double precision NOT NULL,       -- days since the last visit / the interval
        recheck boolean NOT NULL DEFAULT false,  -- the place has findings still open
        status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'arrived', 'done')),
        arrived_at timestamptz,
        arrived_distance_m real,
        done_at timestamptz,
        UNIQUE (plan_id, seq)
    );
    CREATE INDEX inspection_visit_place ON inspection_visit (place_code, done_at);

    CREATE TABLE inspection_check (
        id bigserial PRIMARY KEY,
        visit_id bigint NOT NULL REFERENCES inspection_visit(id) ON DELETE CASCADE,
        department_code text NOT NULL,
        checklist_id integer NOT NULL REFERENCES checklist(id),   -- the version checked against
        answers jsonb NOT NULL,
        failed text[] NOT NULL DEFAULT '{{}}',
        findings text NOT NULL DEFAULT '',
        checked_by text NOT NULL,
        checked_at timestamptz NOT NULL,
        UNIQUE (visit_id, department_code)
    );

    CREATE TABLE inspection_photo (
        visit_id bigint NOT NULL REFERENCES inspection_visit(id) ON DELETE CASCADE,
        sha256 text NOT NULL REFERENCES attachment(sha256),
        added_by text NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (visit_id, sha256)
    );

    -- a failed check's case, with its place: closed by a passing re-check of the same department
    CREATE TABLE inspection_finding (
        incident_id bigint PRIMARY KEY REFERENCES incident(id) ON DELETE CASCADE,
        check_id bigint NOT NULL REFERENCES inspection_check(id) ON DELETE CASCADE,
        place_code text NOT NULL,
        place_category text NOT NULL,
        department_code text NOT NULL,
        zone_code text,
        items text[] NOT NULL,
        closed_by_check bigint REFERENCES inspection_check(id)
    );
    CREATE INDEX inspection_finding_place ON inspection_finding (place_code, department_code);
    """)
    defaults = json.loads(resources.files("api.inspections").joinpath("default_checklists.json")
                          .read_text(encoding="utf-8"))
    for c in defaults["checklists"]:  # where the catalogue is loaded already (else the sample loads them)
        op.get_bind().exec_driver_sql(
            "INSERT INTO checklist (department_code, category, version, case_category, items, changed_by) "
            "SELECT %(d)s, %(c)s, 1, %(k)s, CAST(%(i)s AS jsonb), 'migration' "
            "WHERE EXISTS (SELECT 1 FROM department WHERE code = %(d)s) "
            "AND EXISTS (SELECT 1 FROM category WHERE code = %(k)s)",
            {"d": c["department"], "c": c["category"], "k": c["case_category"],
             "i": json.dumps(c["items"], ensure_ascii=False)})


def downgrade() -> None:
    op.execute(f"""
    DROP TABLE inspection_finding, inspection_photo, inspection_check, inspection_visit, inspection_plan, checklist;
    DELETE FROM incident WHERE source = 'inspection';
    ALTER TABLE incident DROP CONSTRAINT incident_source_check;
    ALTER TABLE incident ADD CONSTRAINT incident_source_check CHECK (source IN ({SOURCES}));
    """)
