"""Settings of a district's own (several districts in one instance): its office hours and how
long a called department has to answer; NULL keeps the instance's (``GRIDGOV_WORKING_DAY_*``,
``GRIDGOV_DEPARTMENT_ANSWER_DEADLINE``).

Revision ID: 0024_district_settings
Revises: 0023_operator_role
Create Date: 2026-12-07
"""
from alembic import op

revision = "0024_district_settings"
down_revision = "0023_operator_role"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE district_settings (
            district_code text PRIMARY KEY,
            working_day_start time,
            working_day_end time,
            department_answer_deadline text CHECK (length(department_answer_deadline) <= 20),
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            CHECK (working_day_start IS NULL OR working_day_end IS NULL OR working_day_start < working_day_end)
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE district_settings")
