"""Area editing: the note kept with each version, indexes for history and `as_of` reads.

Revision ID: 0007_area_editing
Revises: 0006_open311_clients
Create Date: 2026-12-01
"""
from alembic import op

revision = "0007_area_editing"
down_revision = "0006_open311_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
    -- why a version was made (the edit note), beside who made it (changed_by)
    ALTER TABLE area ADD COLUMN reason text CHECK (length(reason) <= 500);
    -- history of one code, and the rows valid at a time (as_of reads of every kind)
    CREATE INDEX area_code_valid_from ON area (code, valid_from);
    CREATE INDEX area_kind_valid_from ON area (kind, valid_from);
    CREATE INDEX area_all_geom ON area USING gist (geom);
    -- every code ever used under a parent (new codes never reuse a retired one)
    CREATE INDEX area_parent_all ON area (parent_code);
    """)


def downgrade() -> None:
    op.execute("""
    DROP INDEX area_parent_all; DROP INDEX area_all_geom; DROP INDEX area_kind_valid_from;
    DROP INDEX area_code_valid_from;
    ALTER TABLE area DROP COLUMN reason;
    """)
