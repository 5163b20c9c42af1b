"""The ``operator`` role: the monitoring's account, which may read ``/metrics`` and nothing else.

A Prometheus server scrapes with a long-lived token of an account whose only grants are
``operator`` (``gridgov user token``); the role holds ``read_metrics`` alone (api/auth/policy.py).

Revision ID: 0023_operator_role
Revises: 0022_one_station_a_zone
Create Date: 2026-12-07
"""
from alembic import op

revision = "0023_operator_role"
down_revision = "0022_one_station_a_zone"
branch_labels = None
depends_on = None

BEFORE = "'admin','dispatcher','grid_manager','grid_worker','officer','analyst'"
AFTER = BEFORE + ",'operator'"


def _roles(allowed: str) -> None:
    op.execute(f"""
        ALTER TABLE role_grant DROP CONSTRAINT role_grant_role_check;
        ALTER TABLE role_grant ADD CONSTRAINT role_grant_role_check CHECK (role IN ({allowed}));
    """)


def upgrade() -> None:
    _roles(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM role_grant WHERE role = 'operator'")
    _roles(BEFORE)
