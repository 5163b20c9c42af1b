"""Open311 GeoReport v2: the client apps that may post requests, each with its own API key.

Only a keyed digest of each key is stored (the key is shown once by ``gridgov apikey add``);
a revoked client keeps its row so that the requests it posted still name it.

Revision ID: 0006_open311_clients
Revises: 0005_case_cycle
Create Date: 2026-12-01
"""
from alembic import op

revision = "0006_open311_clients"
down_revision = "0005_case_cycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    CREATE TABLE open311_client (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text,
        revoked_at timestamptz
    );
    -- which client app posted a request, and the token it got back (tokens/{token})
    ALTER TABLE incident ADD COLUMN open311_client_id integer REFERENCES open311_client(id);
    ALTER TABLE incident ADD COLUMN open311_token text UNIQUE;
    """)


def downgrade() -> None:
    op.execute("""
    ALTER TABLE incident DROP COLUMN open311_token;
    ALTER TABLE incident DROP COLUMN open311_client_id;
    DROP TABLE open311_client;
    """)
