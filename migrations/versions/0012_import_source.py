"""Incidents loaded from another system's history (``gridgov import-incidents``) say so: source
``import``.

Revision ID: 0012_import_source
Revises: 0011_request_public_id
Create Date: 2026-12-01
"""
from alembic import op

revision = "0012_import_source"
down_revision = "0011_request_public_id"
branch_labels = None
depends_on = None

BEFORE = "'qr','web','grid_worker','hotline','open311','sample'"


def upgrade() -> None:
    op.execute(f"""
    ALTER TABLE incident DROP CONSTRAINT incident_source_check;
    ALTER TABLE incident ADD CONSTRAINT incident_source_check CHECK (source IN ({BEFORE},'import'));
    """)


def downgrade() -> None:
    op.execute(f"""
    DELETE FROM incident WHERE source = 'import';
    ALTER TABLE incident DROP CONSTRAINT incident_source_check;
    ALTER TABLE incident ADD CONSTRAINT incident_source_check CHECK (source IN ({BEFORE}));
    """)
