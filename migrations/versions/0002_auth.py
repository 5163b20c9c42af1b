"""Accounts, role grants with area scope, sessions, audit log, scope helper.

Revision ID: 0002_auth
Revises: 0001_core
Create Date: 2026-11-21
"""
from alembic import op

revision = "0002_auth"
down_revision = "0001_core"
branch_labels = None
depends_on = None

ROLES = "'admin','dispatcher','grid_manager','grid_worker','officer','analyst'"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE app_user (
        id serial PRIMARY KEY,
        username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{{1,63}}$'),
        display_name text NOT NULL DEFAULT '',
        password_hash text NOT NULL,
        unit_code text REFERENCES unit(code),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
    );

    -- a grant: a role over an area and everything under it
    CREATE TABLE role_grant (
        id serial PRIMARY KEY,
        user_id integer NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ({ROLES})),
        area_code text NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT now(),
        granted_by text,
        UNIQUE (user_id, role, area_code)
    );

    -- a login: access tokens name it (sid); logout revokes it; refresh rotates jti
    CREATE TABLE auth_session (
        id text PRIMARY KEY,
        user_id integer NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        refresh_jti text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    CREATE INDEX auth_session_user ON auth_session (user_id);

    CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        entity text NOT NULL,
        entity_id text,
        before jsonb,
        after jsonb,
        client text
    );
    CREATE INDEX audit_log_at ON audit_log (at DESC);
    CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

    -- the codes of an area and all its ancestors (current tree), for scope checks
    CREATE FUNCTION area_lineage(start text) RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        WITH RECURSIVE up(code, parent_code, depth) AS (
            SELECT code, parent_code, 0 FROM area WHERE code = start AND valid_to IS NULL
            UNION ALL
            SELECT a.code, a.parent_code, up.depth + 1 FROM area a JOIN up ON a.code = up.parent_code
            WHERE a.valid_to IS NULL AND up.depth < 10
        )
        SELECT coalesce(array_agg(code), ARRAY[start]) FROM up
    $$;

    """)


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION area_lineage(text);
    DROP TABLE audit_log; DROP TABLE auth_session; DROP TABLE role_grant; DROP TABLE app_user;
    """)
