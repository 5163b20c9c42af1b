"""``area_lineage`` in PL/pgSQL: the same recursive query, with its plan kept per session.

A SQL-language function that cannot be inlined (this one recurses and aggregates) has its body
planned again in every statement that calls it. Every scope check calls it (``unit_in_reach``
for the units a dispatcher sees in a routing, ``area_in_map_scope``, ...), so the routing of one
point as a street or district dispatcher spent about 0.6 ms planning three lineages (measured:
route_point.sql with a dispatcher's reach 1.80 ms -> 1.21-1.28 ms p50; every unit 1.07-1.14 ms).
PL/pgSQL prepares the query once per connection.

Revision ID: 0017_area_lineage_plpgsql
Revises: 0016_area_lineage_root
Create Date: 2026-12-02
"""
from alembic import op

revision = "0017_area_lineage_plpgsql"
down_revision = "0016_area_lineage_root"
branch_labels = None
depends_on = None

LINEAGE = """
    WITH RECURSIVE up(code, parent_code, depth) AS (
        SELECT a.code, a.parent_code, 0 FROM area a WHERE a.code = start AND a.valid_to IS NULL
        UNION ALL
        SELECT a.code, a.parent_code, up.depth + 1 FROM area a JOIN up ON a.code = up.parent_code
        WHERE a.valid_to IS NULL AND up.depth < 10 AND up.parent_code IS DISTINCT FROM up.code
    )
    SELECT coalesce(array_agg(up.code), ARRAY[start]) {into} FROM up"""


def upgrade() -> None:
    op.execute(f"""
    CREATE OR REPLACE FUNCTION area_lineage(start text) RETURNS text[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    DECLARE lineage text[];
    BEGIN
        {LINEAGE.format(into="INTO lineage")};
        RETURN lineage;
    END
    $$;
    """)


def downgrade() -> None:
    op.execute(f"""
    CREATE OR REPLACE FUNCTION area_lineage(start text) RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ {LINEAGE.format(into="")} $$;
    """)
