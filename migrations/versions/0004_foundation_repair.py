"""Foundation repair: login back-off, unit fix accuracy, the reach rules as SQL functions,
and privacy clean-up of data written by earlier versions.

Revision ID: 0004_foundation_repair
Revises: 0003_unit_available_index
Create Date: 2026-11-22
"""
from alembic import op

revision = "0004_foundation_repair"
down_revision = "0003_unit_available_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- failed secret checks per key (a login name, a tracking code), whether or not it exists,
    -- shared by every app worker: the back-off that answers brute force
    CREATE TABLE auth_throttle (
        key text PRIMARY KEY,
        failures integer NOT NULL DEFAULT 0,
        last_failure_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz
    );

    ALTER TABLE unit ADD COLUMN position_accuracy_m real;

    -- The reach rules of api/auth/policy.py, one place each, used by every query that
    -- filters units or incidents by what the caller may see.
    CREATE FUNCTION unit_in_reach(unit_station text, unit_code text,
                                  everywhere boolean, scope text[], own_unit text)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT everywhere
            OR (own_unit IS NOT NULL AND unit_code = own_unit)
            OR (cardinality(scope) > 0 AND EXISTS (
                    SELECT 1 FROM station st
                    WHERE st.code = unit_station AND area_lineage(st.zone_code) && scope))
    $$;

    CREATE FUNCTION incident_in_reach(i incident, everywhere boolean, scope text[], own_unit text)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT everywhere
            OR ARRAY[i.grid_code, i.community_code, i.street_code, i.district_code, i.zone_code] && scope
            OR (own_unit IS NOT NULL AND EXISTS (
                    SELECT 1 FROM assignment a WHERE a.incident_id = i.id AND a.unit_code = own_unit))
    $$;

    -- What a caller without detail rights (analysts) sees of an incident's place and times:
    -- about 100 m and the hour. Queries filter on these values too, so that bisecting with
    -- bbox or since/until windows cannot recover what the output hides.
    CREATE FUNCTION shown_coordinate(value float8, detailed boolean)
    RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN detailed THEN value ELSE round(value::numeric, 3)::float8 END
    $$;
    CREATE FUNCTION shown_time(value timestamptz, detailed boolean)
    RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN detailed OR value IS NULL THEN value ELSE date_trunc('hour', value) END
    $$;

    -- earlier versions named the reporter's IP address as the actor of the first event
    UPDATE incident_event SET actor = 'reporter' WHERE actor LIKE 'public@%';
    -- and stored raw Idempotency-Keys with an unkeyed hash of a body holding the phone
    -- number; both are only for retries, so forget them (new ones are keyed HMACs). The
    -- sample loader's own keys ('sample:<n>', no caller's secret) keep its reload idempotent.
    UPDATE incident SET idempotency_key = NULL, request_hash = NULL
    WHERE source <> 'sample' AND (idempotency_key IS NOT NULL OR request_hash IS NOT NULL);
    """)


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION shown_time(timestamptz, boolean);
    DROP FUNCTION shown_coordinate(float8, boolean);
    DROP FUNCTION incident_in_reach(incident, boolean, text[], text);
    DROP FUNCTION unit_in_reach(text, text, boolean, text[], text);
    ALTER TABLE unit DROP COLUMN position_accuracy_m;
    DROP TABLE auth_throttle;
    """)
