"""Routing index: lon/lat quadtree cells lying wholly (with a margin) inside one current grid or
outside every grid, and inside one zone or outside every zone.

``routing_cell.cell`` packs ``level << 50 | i << 25 | j`` with ``i = floor((lon + 180) * 2^level)``,
``j = floor((lat + 90) * 2^level)``: a square of ``2^-level`` degrees. ``grid_code`` NULL means "no
grid covers any point of the cell". ``clearance_m`` is a lower bound of the distance (metres) from
the cell to every other grid. The index is filled by ``spatial.routing_index.rebuild`` (h3/shapely
live in Python; this migration creates it empty, and an empty index is correct: every point then
takes the exact ``ST_Covers`` path).

Triggers on ``area`` (statement level, transition tables) DELETE every cell whose box touches the
old or new ground of a changed grid or zone in the writing transaction, so the index is never
stale: at worst it has a hole. Every change to ``area``, ``station`` or the cells takes a fresh
``routing_index_version`` value (a sequence: a rolled-back value is never seen again), so
in-process copies of the index know they are stale.

Revision ID: 0014_routing_index
Revises: 0013_cache_notify
Create Date: 2026-12-01
"""
from alembic import op

revision = "0014_routing_index"
down_revision = "0013_cache_notify"
branch_labels = None
depends_on = None

# the cell box, widened by the build margin (spatial.routing_index.EPS_DEG) so that && finds every
# cell whose classification a changed geometry could touch
BOX_FUNCTION = """
CREATE OR REPLACE FUNCTION routing_cell_box(cell bigint) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT ST_MakeEnvelope(
        ((cell >> 25) & 33554431) * power(2.0::float8, -(cell >> 50)::float8) - 180.0 - 1e-7,
        (cell & 33554431) * power(2.0::float8, -(cell >> 50)::float8) - 90.0 - 1e-7,
        (((cell >> 25) & 33554431) + 1) * power(2.0::float8, -(cell >> 50)::float8) - 180.0 + 1e-7,
        ((cell & 33554431) + 1) * power(2.0::float8, -(cell >> 50)::float8) - 90.0 + 1e-7, 4326)
$$;
"""

FORGET_FUNCTIONS = """
-- the one state row is also the lock that serialises area writers' index maintenance: a rebuild
-- computes its cells from areas and cells no other uncommitted transaction is changing
CREATE OR REPLACE FUNCTION routing_index_bump() RETURNS void LANGUAGE sql AS $$
    UPDATE routing_index_state SET version = nextval('routing_index_version'), changed_at = clock_timestamp()
$$;

-- cells touching any of these geometries (grids and zones only)
CREATE OR REPLACE FUNCTION routing_index_forget(geoms geometry[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM routing_cell rc
    USING unnest(geoms) AS g(geom)
    WHERE routing_cell_box(rc.cell) && g.geom AND ST_Intersects(routing_cell_box(rc.cell), g.geom)
$$;

CREATE OR REPLACE FUNCTION routing_index_area_ins_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        PERFORM routing_index_bump();   -- first: waits for another area writer, so the DELETE sees its cells
        PERFORM routing_index_forget(ARRAY(
            SELECT geom FROM changed WHERE kind IN ('grid', 'zone') AND valid_to IS NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION routing_index_area_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        PERFORM routing_index_bump();
        -- a row whose routing meaning is unchanged (same code, kind, currency and geometry) is skipped
        PERFORM routing_index_forget(ARRAY(
            SELECT o.geom FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.kind IN ('grid', 'zone') AND o.valid_to IS NULL
                   OR n.kind IN ('grid', 'zone') AND n.valid_to IS NULL)
              AND NOT (o.code = n.code AND o.kind = n.kind AND (o.valid_to IS NULL) = (n.valid_to IS NULL)
                       AND o.geom ~= n.geom)
            UNION ALL
            SELECT n.geom FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.kind IN ('grid', 'zone') AND o.valid_to IS NULL
                   OR n.kind IN ('grid', 'zone') AND n.valid_to IS NULL)
              AND NOT (o.code = n.code AND o.kind = n.kind AND (o.valid_to IS NULL) = (n.valid_to IS NULL)
                       AND o.geom ~= n.geom)));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION routing_index_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM routing_cell;
    PERFORM routing_index_bump();
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION routing_index_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM routing_index_bump();
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute("""
    CREATE TABLE routing_cell (
        cell bigint PRIMARY KEY,          -- level << 50 | i << 25 | j
        grid_code text,                   -- NULL: no grid touches the cell
        zone_code text,                   -- NULL: no zone touches the cell
        clearance_m real NOT NULL DEFAULT 0 CHECK (clearance_m >= 0)
    );
    CREATE SEQUENCE routing_index_version;
    CREATE TABLE routing_index_state (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        version bigint NOT NULL,
        min_level smallint NOT NULL DEFAULT 7,
        max_level smallint NOT NULL DEFAULT 14,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        built_at timestamptz
    );
    INSERT INTO routing_index_state (version) VALUES (nextval('routing_index_version'));
    """)
    op.execute(BOX_FUNCTION)
    op.execute("CREATE INDEX routing_cell_box_gist ON routing_cell USING gist (routing_cell_box(cell))")
    op.execute(FORGET_FUNCTIONS)
    op.execute("""
    CREATE TRIGGER routing_index_area_ins AFTER INSERT ON area REFERENCING NEW TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION routing_index_area_ins_del();
    CREATE TRIGGER routing_index_area_del AFTER DELETE ON area REFERENCING OLD TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION routing_index_area_ins_del();
    CREATE TRIGGER routing_index_area_upd AFTER UPDATE ON area REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION routing_index_area_upd();
    CREATE TRIGGER routing_index_area_truncate AFTER TRUNCATE ON area
        FOR EACH STATEMENT EXECUTE FUNCTION routing_index_truncate();
    CREATE TRIGGER routing_index_station AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON station
        FOR EACH STATEMENT EXECUTE FUNCTION routing_index_touch();
    """)


def downgrade() -> None:
    op.execute("""
    DROP TRIGGER IF EXISTS routing_index_station ON station;
    DROP TRIGGER IF EXISTS routing_index_area_truncate ON area;
    DROP TRIGGER IF EXISTS routing_index_area_upd ON area;
    DROP TRIGGER IF EXISTS routing_index_area_del ON area;
    DROP TRIGGER IF EXISTS routing_index_area_ins ON area;
    DROP FUNCTION IF EXISTS routing_index_touch();
    DROP FUNCTION IF EXISTS routing_index_truncate();
    DROP FUNCTION IF EXISTS routing_index_area_upd();
    DROP FUNCTION IF EXISTS routing_index_area_ins_del();
    DROP FUNCTION IF EXISTS routing_index_forget(geometry[]);
    DROP FUNCTION IF EXISTS routing_index_bump();
    DROP TABLE IF EXISTS routing_cell;
    DROP FUNCTION IF EXISTS routing_cell_box(bigint);
    DROP TABLE IF EXISTS routing_index_state;
    DROP SEQUENCE IF EXISTS routing_index_version;
    """)
