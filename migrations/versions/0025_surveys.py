"""Resident satisfaction surveys (满意度测评): templates (dimensions × indicators, immutable once
stored: a new version gets a code of its own), survey periods per street, anonymous answers (one
per phone per period: a keyed hash of the phone's secret under the period, no address, phone
number, place or user agent) and the follow-up items (整改事项) of the lowest indicators.

Revision ID: 0025_surveys
Revises: 0024_district_settings
Create Date: 2026-12-07
"""
from alembic import op

revision = "0025_surveys"
down_revision = "0024_district_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE survey_template (
            code text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
            name text NOT NULL,
            name_en text NOT NULL,
            document jsonb NOT NULL,          -- the file as loaded: dimensions and their indicators
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE survey_period (
            id bigserial PRIMARY KEY,
            street_code text NOT NULL,
            template_code text NOT NULL REFERENCES survey_template (code),
            opens date NOT NULL,
            closes date NOT NULL,
            closed_at timestamptz,            -- closed early by hand (gridgov survey close)
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (closes >= opens)
        );
        CREATE INDEX survey_period_street ON survey_period (street_code, opens);
        CREATE TABLE survey_answer (
            period_id bigint NOT NULL REFERENCES survey_period (id),
            device text NOT NULL CHECK (length(device) = 64),  -- keyed hash of the phone's secret and the period
            scores jsonb NOT NULL CHECK (jsonb_typeof(scores) = 'object'),
            poster text NOT NULL CHECK (poster IN ('current', 'previous')),  -- which QR key signed the link
            answered_on date NOT NULL,        -- the day only: nothing to match against a request log
            answers smallint NOT NULL DEFAULT 1,  -- how often this phone answered (the last one counts)
            PRIMARY KEY (period_id, device)
        );
        CREATE TABLE survey_followup (
            id bigserial PRIMARY KEY,
            period_id bigint NOT NULL REFERENCES survey_period (id),
            indicator text NOT NULL,
            owner text NOT NULL,              -- a department or unit code
            measures text NOT NULL CHECK (length(measures) BETWEEN 1 AND 2000),
            deadline date NOT NULL,
            status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'done')),
            progress text NOT NULL DEFAULT '' CHECK (length(progress) <= 2000),
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX survey_followup_period ON survey_followup (period_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE survey_followup; DROP TABLE survey_answer; DROP TABLE survey_period; "
               "DROP TABLE survey_template")
