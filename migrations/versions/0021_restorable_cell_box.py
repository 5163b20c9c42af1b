"""The routing index's cell box names PostGIS's schema, so that a dump restores.

``pg_restore`` runs with an empty ``search_path``; building the expression index
``routing_cell_box_gist`` then called ``routing_cell_box``, whose body named ``ST_MakeEnvelope``
unqualified, and the restore failed ("function st_makeenvelope does not exist"). The body now
says ``public.ST_MakeEnvelope`` (``power`` is pg_catalog's, always found); the function stays a
plain SQL function (no ``SET search_path``), so the planner still inlines it.

Revision ID: 0021_restorable_cell_box
Revises: 0020_supporter_device
Create Date: 2026-12-07
"""
from alembic import op

revision = "0021_restorable_cell_box"
down_revision = "0020_supporter_device"
branch_labels = None
depends_on = None

BOX = """
CREATE OR REPLACE FUNCTION routing_cell_box(cell bigint) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT {schema}ST_MakeEnvelope(
        ((cell >> 25) & 33554431) * power(2.0::float8, -(cell >> 50)::float8) - 180.0 - 1e-7,
        (cell & 33554431) * power(2.0::float8, -(cell >> 50)::float8) - 90.0 - 1e-7,
        (((cell >> 25) & 33554431) + 1) * power(2.0::float8, -(cell >> 50)::float8) - 180.0 + 1e-7,
        ((cell & 33554431) + 1) * power(2.0::float8, -(cell >> 50)::float8) - 90.0 + 1e-7, 4326)
$$;
"""


def upgrade() -> None:
    op.execute(BOX.format(schema="public."))


def downgrade() -> None:
    op.execute(BOX.format(schema=""))
