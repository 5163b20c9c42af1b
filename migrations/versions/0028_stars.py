"""Star ratings (星级工作站): per-district star configurations (versioned, never changed once
stored), monthly ratings of each linkage workstation and each unit with the breakdown that
produced them (kept per computation: a recomputation adds rows, the newest is shown), a leader's
adjustments (with a reason, beside the computed rating, never over it), and the ``leader`` role.

Revision ID: 0028_stars
Revises: 0027_case_facts
Create Date: 2026-12-08
"""
from alembic import op

revision = "0028_stars"
down_revision = "0027_case_facts"
branch_labels = None
depends_on = None

BEFORE = "'admin','dispatcher','grid_manager','grid_worker','officer','analyst','operator'"
AFTER = BEFORE + ",'leader'"


def _roles(allowed: str) -> None:
    op.execute(f"""
        ALTER TABLE role_grant DROP CONSTRAINT role_grant_role_check;
        ALTER TABLE role_grant ADD CONSTRAINT role_grant_role_check CHECK (role IN ({allowed}));
    """)


def upgrade() -> None:
    _roles(AFTER)
    op.execute("""
        CREATE TABLE star_config (
            district_code text NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            document jsonb NOT NULL,           -- weights, penalties, thresholds, minimum cases (api.stars.config)
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (district_code, version)
        );
        CREATE TABLE star_rating (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('station', 'unit')),
            subject text NOT NULL,             -- the station's or the unit's code
            month date NOT NULL CHECK (extract(day FROM month) = 1),
            district_code text NOT NULL,
            areas text[] NOT NULL,             -- the areas the subject lies in (the reach check)
            config_version integer NOT NULL,
            cases integer NOT NULL,            -- received in the month (the minimum's count)
            rated boolean NOT NULL,            -- false: too few cases, no stars, never ranked
            unrated_reason text,               -- why not rated (fewer than min_cases cases, ...)
            score numeric(6, 2),
            stars smallint CHECK (stars BETWEEN 1 AND 5),
            breakdown jsonb NOT NULL,          -- each KPI: value, numerator, denominator, weight, points
            computed_at timestamptz NOT NULL,
            computed_by text NOT NULL,
            FOREIGN KEY (district_code, config_version) REFERENCES star_config (district_code, version),
            CHECK (rated = (stars IS NOT NULL))
        );
        CREATE INDEX star_rating_month ON star_rating (month, kind, subject, computed_at DESC);
        CREATE INDEX star_rating_subject ON star_rating (kind, subject, month);
        CREATE INDEX star_rating_areas ON star_rating USING gin (areas);
        CREATE TABLE star_adjustment (
            id bigserial PRIMARY KEY,
            rating_id bigint NOT NULL REFERENCES star_rating (id) ON DELETE CASCADE,
            stars smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
            reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 1000),
            adjusted_by text NOT NULL,
            adjusted_at timestamptz NOT NULL
        );
        CREATE INDEX star_adjustment_rating ON star_adjustment (rating_id, adjusted_at DESC);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE star_adjustment; DROP TABLE star_rating; DROP TABLE star_config")
    op.execute("DELETE FROM role_grant WHERE role = 'leader'")
    _roles(BEFORE)
