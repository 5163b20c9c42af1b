"""``area_lineage`` stops at the root: the district row is its own parent (its ``parent_code``
is its code), and the recursion went round it up to its depth limit, giving the district nine
times and costing every scope check (units in reach, map scope) ten lookups instead of one.

Revision ID: 0016_area_lineage_root
Revises: 0015_duplicate_candidates
Create Date: 2026-12-01
"""
from alembic import op

revision = "0016_area_lineage_root"
down_revision = "0015_duplicate_candidates"
branch_labels = None
depends_on = None


def _lineage(stop_at_root: bool) -> str:
    root = " AND up.parent_code IS DISTINCT FROM up.code" if stop_at_root else ""
    return f"""
    CREATE OR REPLACE FUNCTION area_lineage(start text) RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        WITH RECURSIVE up(code, parent_code, depth) AS (
            SELECT code, parent_code, 0 FROM area WHERE code = start AND valid_to IS NULL
            UNION ALL
            SELECT a.code, a.parent_code, up.depth + 1 FROM area a JOIN up ON a.code = up.parent_code
            WHERE a.valid_to IS NULL AND up.depth < 10{root}
        )
        SELECT coalesce(array_agg(code), ARRAY[start]) FROM up
    $$;
    """


def upgrade() -> None:
    op.execute(_lineage(True))


def downgrade() -> None:
    op.execute(_lineage(False))
