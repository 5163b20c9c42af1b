"""The places register (民情地图): places as points with versions (valid_from/valid_to like
areas), routed to their grid, community, street, district and zone; their contact sealed with
the contact key. Grid aggregates: counts per grid with their date and source, never people.

Revision ID: 0026_places
Revises: 0025_surveys
Create Date: 2026-12-07
"""
from alembic import op

revision = "0026_places"
down_revision = "0025_surveys"
branch_labels = None
depends_on = None

CATEGORIES = ("enterprise", "shop", "restaurant", "rental_housing", "construction_site", "school", "market",
              "hazardous_goods_store", "hotel", "entertainment_venue", "care_home", "other")


def upgrade() -> None:
    categories = ", ".join(f"'{c}'" for c in CATEGORIES)
    op.execute(f"""
        CREATE TABLE place (
            id bigserial PRIMARY KEY,
            code text NOT NULL CHECK (code ~ '^[0-9A-Za-z_-]{{1,32}}$'),
            version integer NOT NULL CHECK (version >= 1),
            valid_from timestamptz NOT NULL,
            valid_to timestamptz CHECK (valid_to IS NULL OR valid_to >= valid_from),
            category text NOT NULL CHECK (category IN ({categories})),
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            address text CHECK (length(address) <= 300),
            licences text[] NOT NULL DEFAULT '{{}}' CHECK (cardinality(licences) <= 10),
            responsible text CHECK (length(responsible) <= 100),
            contact bytea,                      -- sealed (api.contact), never in tiles, OGC or exports
            risk_level text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high')),
            location geometry(Point, 4326) NOT NULL,
            grid_code text NOT NULL,
            community_code text,
            street_code text,
            district_code text,
            zone_code text,
            areas text[] GENERATED ALWAYS AS
                (array_remove(ARRAY[grid_code, community_code, street_code, district_code, zone_code], NULL)) STORED,
            changed_by text NOT NULL,
            reason text CHECK (length(reason) <= 500),
            UNIQUE (code, version)
        );
        CREATE UNIQUE INDEX place_current_code ON place (code) WHERE valid_to IS NULL;
        CREATE INDEX place_current_location ON place USING gist (location) WHERE valid_to IS NULL;
        CREATE INDEX place_current_areas ON place USING gin (areas) WHERE valid_to IS NULL;
        CREATE INDEX place_current_3857 ON place USING gist (ST_Transform(location, 3857)) WHERE valid_to IS NULL;

        CREATE TABLE grid_aggregate (
            grid_code text NOT NULL,
            as_of date NOT NULL,
            households integer CHECK (households BETWEEN 0 AND 1000000),
            registered_residents integer CHECK (registered_residents BETWEEN 0 AND 10000000),
            non_local_residents integer CHECK (non_local_residents BETWEEN 0 AND 10000000),
            elderly_alone integer CHECK (elderly_alone BETWEEN 0 AND 1000000),
            source text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
            recorded_at timestamptz NOT NULL DEFAULT now(),
            recorded_by text NOT NULL,
            PRIMARY KEY (grid_code, as_of)
        );
    """)


def downgrade() -> None:
    op.execute("DROP TABLE grid_aggregate; DROP TABLE place")
