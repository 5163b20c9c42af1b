"""Grid workers' patrols (巡查): one row per patrol with its track as a LineStringM in EPSG:4326
(M = seconds since the epoch of each fix, accuracies alongside), the summary kept after the track is
dropped (length, duration, coverage), and the link of a report filed on patrol to its patrol and
track point.

Revision ID: 0030_patrols
Revises: 0029_inspections
Create Date: 2026-12-08
"""
from alembic import op

revision = "0030_patrols"
down_revision = "0029_inspections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE patrol (
            id bigserial PRIMARY KEY,
            grid_code text NOT NULL,
            areas text[] NOT NULL,              -- the grid and the areas above it at the start (scope)
            worker text NOT NULL,               -- the grid worker's username
            started_at timestamptz NOT NULL,
            ended_at timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
            track geometry(LineStringM, 4326),  -- NULL before the first fix and after retention
            accuracies real[] NOT NULL DEFAULT '{}',
            fixes integer NOT NULL DEFAULT 0 CHECK (fixes >= 0),
            first_at timestamptz,
            last_at timestamptz,
            length_m double precision,
            duration_s double precision,
            places_total integer,
            places_visited text[],              -- codes of the grid's places within 30 m of the track
            area_share double precision CHECK (area_share BETWEEN 0 AND 1),
            track_dropped_at timestamptz
        );
        CREATE INDEX patrol_grid_started ON patrol (grid_code, started_at DESC);
        CREATE INDEX patrol_areas ON patrol USING gin (areas);
        CREATE INDEX patrol_worker ON patrol (worker, started_at DESC);
        CREATE UNIQUE INDEX patrol_one_open ON patrol (worker) WHERE ended_at IS NULL;
        CREATE INDEX patrol_track_kept ON patrol (ended_at) WHERE track IS NOT NULL;

        CREATE TABLE patrol_report (
            incident_id bigint PRIMARY KEY REFERENCES incident(id) ON DELETE CASCADE,
            patrol_id bigint NOT NULL REFERENCES patrol(id) ON DELETE CASCADE,
            point_index integer,                -- the nearest fix of the track (0-based); NULL once dropped
            point_at timestamptz,
            distance_m double precision,
            settled_on_spot boolean NOT NULL DEFAULT false
        );
        CREATE INDEX patrol_report_patrol ON patrol_report (patrol_id);
    """)


def downgrade() -> None:
    op.execute("DROP TABLE patrol_report; DROP TABLE patrol")
