"""KNN index on available units only: the nearest-unit search no longer walks busy ones.

Revision ID: 0003_unit_available_index
Revises: 0002_auth
Create Date: 2026-11-21
"""
from alembic import op

revision = "0003_unit_available_index"
down_revision = "0002_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX unit_available_position ON unit USING gist (position) WHERE status = 'available'")


def downgrade() -> None:
    op.execute("DROP INDEX unit_available_position")
