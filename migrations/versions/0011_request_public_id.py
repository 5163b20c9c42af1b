"""A public id for every report, for lists that anyone may read (Open311 ``service_request_id``).

The tracking code is the reporter's: with it (and the secret) they follow and rate their case,
and failed secrets lock it for a while. Published in a public list, every code could be locked
by a stranger; so public lists name a report by this id instead, random and unrelated to the
tracking code or the internal serial.

Revision ID: 0011_request_public_id
Revises: 0010_area_map_scope
Create Date: 2026-12-01
"""
from alembic import op

revision = "0011_request_public_id"
down_revision = "0010_area_map_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    ALTER TABLE incident ADD COLUMN public_id text NOT NULL
        DEFAULT 'R' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20);
    CREATE UNIQUE INDEX incident_public_id ON incident (public_id);
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE incident DROP COLUMN public_id")
