"""Cache invalidation across app workers: NOTIFY on channel ``gridgov_cache`` from the writing
transaction, so a worker's cached sessions, principals and area-derived data (tiles, the
in-process routing index) are dropped as soon as the change commits, in every worker.

Payloads (one per statement, PostgreSQL folds identical ones within a transaction):
``{"t": "sessions", "ids": [...]}`` for revoked or deleted sessions, ``{"t": "users", "ids": [...]}``
for changed accounts and role grants, ``{"t": "areas"}`` for any write to ``area``. More ids
than ``IDS_MAX`` in one statement: ``{"t": "sessions"|"users", "all": true}``.

Also the public rate limit's token buckets, shared by every worker (UNLOGGED: a crash empties
them, which only forgives the clients their last minute).

Revision ID: 0013_cache_notify
Revises: 0012_import_source
Create Date: 2026-12-01
"""
from alembic import op

revision = "0013_cache_notify"
down_revision = "0012_import_source"
branch_labels = None
depends_on = None

CHANNEL = "gridgov_cache"
IDS_MAX = 200

# (trigger, table, event, transition table, function, id expression)
TRIGGERS = (
    ("auth_session_cache_upd", "auth_session", "UPDATE", "NEW", "cache_sessions", "id"),
    ("auth_session_cache_del", "auth_session", "DELETE", "OLD", "cache_sessions", "id"),
    ("app_user_cache_upd", "app_user", "UPDATE", "NEW", "cache_users", "id"),
    ("app_user_cache_del", "app_user", "DELETE", "OLD", "cache_users", "id"),
    ("role_grant_cache_ins", "role_grant", "INSERT", "NEW", "cache_users", "user_id"),
    ("role_grant_cache_upd", "role_grant", "UPDATE", "NEW", "cache_users", "user_id"),
    ("role_grant_cache_del", "role_grant", "DELETE", "OLD", "cache_users", "user_id"),
)


def _ids_function(name: str, kind: str) -> str:
    # TG_ARGV[0]: the id column of the transition table "changed"
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE ids text[];
    BEGIN
        EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM changed', TG_ARGV[0]) INTO ids;
        IF cardinality(ids) > {IDS_MAX} THEN
            PERFORM pg_notify('{CHANNEL}', json_build_object('t', '{kind}', 'all', true)::text);
        ELSIF cardinality(ids) > 0 THEN
            PERFORM pg_notify('{CHANNEL}', json_build_object('t', '{kind}', 'ids', ids)::text);
        END IF;
        RETURN NULL;
    END $$;
    """


def upgrade() -> None:
    op.execute("""
    CREATE UNLOGGED TABLE rate_bucket (
        key text PRIMARY KEY,
        tokens float8 NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    """)
    op.execute(_ids_function("cache_sessions", "sessions") + _ids_function("cache_users", "users") + f"""
    CREATE OR REPLACE FUNCTION cache_areas() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', '{{"t": "areas"}}');
        RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS area_cache ON area;
    CREATE TRIGGER area_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON area
        FOR EACH STATEMENT EXECUTE FUNCTION cache_areas();
    """)
    for trigger, table, event, side, function, column in TRIGGERS:
        op.execute(f"""
        DROP TRIGGER IF EXISTS {trigger} ON {table};
        CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {side} TABLE AS changed
            FOR EACH STATEMENT EXECUTE FUNCTION {function}('{column}');
        """)


def downgrade() -> None:
    for trigger, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("""
    DROP TRIGGER IF EXISTS area_cache ON area;
    DROP FUNCTION IF EXISTS cache_areas();
    DROP FUNCTION IF EXISTS cache_users();
    DROP FUNCTION IF EXISTS cache_sessions();
    DROP TABLE IF EXISTS rate_bucket;
    """)
