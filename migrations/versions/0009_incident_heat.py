"""Heatmap rollups: incidents counted per H3 cell (resolution 9) × hour × category × state ×
tier × source × areas, kept up to date on every write by statement-level triggers (a bulk
insert costs one grouped upsert, not one per row). Coarser hexagons are sums of their
children (``h3.cell_to_parent``), so one table serves every zoom. The areas column is the
incident's own array (grid, community, street, district, zone; '' where none), so the heatmap is scoped
by the same rule as the incidents.

Revision ID: 0009_incident_heat
Revises: 0008_live_events
Create Date: 2026-12-01
"""
from alembic import op

revision = "0009_incident_heat"
down_revision = "0008_live_events"
branch_labels = None
depends_on = None

# the rollup key of an incident row ``r`` (NULLs as '' so that the unique key holds them)
KEY = """r.h3_cell, date_trunc('hour', r.reported_at, 'UTC'), r.category_code, r.status,
         coalesce(r.tier, ''), r.source, array_replace(r.areas, NULL, '')"""
COLUMNS = "cell, hour, category, status, tier, source, areas"


def _apply(rows: str, sign: str) -> str:
    return f"""
        INSERT INTO incident_heat AS h ({COLUMNS}, n)
        SELECT {KEY}, {sign}count(*) FROM {rows} r WHERE r.h3_cell IS NOT NULL GROUP BY {KEY}
        ON CONFLICT ({COLUMNS}) DO UPDATE SET n = h.n + excluded.n;"""


def _moved(side: str) -> str:
    """The old (``o``) or new (``n``) rows of an UPDATE whose rollup key changed."""
    key = "h3_cell, reported_at, category_code, status, tier, source, areas"
    old, new = (", ".join(f"{t}.{c.strip()}" for c in key.split(",")) for t in ("o", "n"))
    return f"""(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE ({old}) IS DISTINCT FROM ({new}))"""


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE incident_heat (
        cell text NOT NULL,
        hour timestamptz NOT NULL,
        category text NOT NULL,
        status text NOT NULL,
        tier text NOT NULL,
        source text NOT NULL,
        areas text[] NOT NULL,
        n integer NOT NULL,
        UNIQUE ({COLUMNS})
    );
    -- every column a heatmap reads, in hour order: a window is one index-only range scan
    CREATE INDEX incident_heat_hour ON incident_heat (hour) INCLUDE (cell, n, category, status, tier, source, areas);
    CREATE INDEX incident_heat_areas ON incident_heat USING gin (areas);

    CREATE FUNCTION incident_heat_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_apply("new_rows", "")} RETURN NULL; END $$;
    CREATE FUNCTION incident_heat_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_apply("old_rows", "-")} DELETE FROM incident_heat WHERE n = 0; RETURN NULL; END $$;
    CREATE FUNCTION incident_heat_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- only rows whose key changed move between buckets (most updates touch other columns)
        {_apply(_moved("o"), "-")}
        {_apply(_moved("n"), "")}
        DELETE FROM incident_heat WHERE n = 0;
        RETURN NULL;
    END $$;
    CREATE TRIGGER incident_heat_insert AFTER INSERT ON incident
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_heat_insert();
    CREATE TRIGGER incident_heat_delete AFTER DELETE ON incident
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_heat_delete();
    CREATE TRIGGER incident_heat_update AFTER UPDATE ON incident
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION incident_heat_update();

    {_apply("incident", "")}
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER incident_heat_update ON incident;
    DROP TRIGGER incident_heat_delete ON incident;
    DROP TRIGGER incident_heat_insert ON incident;
    DROP FUNCTION incident_heat_update();
    DROP FUNCTION incident_heat_delete();
    DROP FUNCTION incident_heat_insert();
    DROP TABLE incident_heat;
    """)
