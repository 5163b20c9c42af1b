"""Me-too names a case by its public id and gives the supporter a code of its own.

Before, ``POST /api/public/incidents/{id}/me-too`` took the internal serial and answered the
case's own tracking code: anyone could walk the ids, follow any open case with exact times and,
knowing its code, lock its reporter out with wrong secrets. Now:

* the candidates offered before filing (``duplicate_candidates``) carry the case's public id,
  and me-too is accepted only for a case that is a candidate at the resident's own position;
* each me-too supporter gets a tracking code of its own (``incident_supporter.tracking_code``)
  and is remembered by the phone it came from (``device_hash``, a keyed hash of its
  ``X-Device-Secret``): one me-too per phone per case, a few per phone a day;
* ``role`` says who a supporter is: ``reporter`` for the reporter of a duplicate merged into
  the case (their rating counts like the case's reporter's), ``supporter`` for everyone else
  (their rating is kept in the case file but never reopens the case).

A supporter's code is unique per case: a merge copies it to the original case, and the code
then leads to the case that is still open.

Revision ID: 0020_supporter_device
Revises: 0019_calendar_schedule
Create Date: 2026-12-07
"""
from alembic import op

revision = "0020_supporter_device"
down_revision = "0019_calendar_schedule"
branch_labels = None
depends_on = None

def _candidates(public_id: bool) -> str:
    """The function of migration 0015 (``public_id`` false) or with the public id as its second
    column: the same query either way."""
    column, typed = ("i.public_id, ", "public_id text, ") if public_id else ("", "")
    return f"""
    CREATE FUNCTION duplicate_candidates(category text, lon float8, lat float8, radius_m float8,
                                         hours int, exclude_id bigint, max_rows int)
    RETURNS TABLE (id bigint, {typed}category_code text, status text, distance_m int,
                   reported_at timestamptz, lon float8, lat float8, supporters int)
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT i.id, {column}i.category_code, i.status,
               round(ST_Distance(i.location::geography, p.g::geography))::int,
               date_trunc('hour', i.reported_at),
               shown_coordinate(ST_X(i.location), false), shown_coordinate(ST_Y(i.location), false),
               i.supporters
        FROM incident i, (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326) AS g) p
        WHERE i.category_code = $1
          AND i.status NOT IN ('closed', 'void', 'duplicate', 'not_responsible')
          AND i.reported_at >= now() - make_interval(hours => $5)
          AND ST_DWithin(i.location, p.g, $4 / 111320.0 / cos(radians($3)))   -- index-friendly prefilter
          AND ST_DWithin(i.location::geography, p.g::geography, $4)
          AND ($6 IS NULL OR i.id <> $6)
        ORDER BY ST_Distance(i.location::geography, p.g::geography), i.id
        LIMIT $7
    $$;
"""


def upgrade() -> None:
    op.execute("""
    ALTER TABLE incident_supporter
        ADD COLUMN tracking_code text,
        ADD COLUMN device_hash text,
        ADD COLUMN role text NOT NULL DEFAULT 'supporter' CHECK (role IN ('reporter', 'supporter'));
    UPDATE incident_supporter s SET role = 'reporter'
    FROM incident d
    WHERE s.via = 'merge' AND s.from_incident_id = d.id AND s.token_hash = d.reporter_token_hash;
    CREATE UNIQUE INDEX incident_supporter_code ON incident_supporter (tracking_code, incident_id)
        WHERE tracking_code IS NOT NULL;
    CREATE UNIQUE INDEX incident_supporter_device ON incident_supporter (incident_id, device_hash)
        WHERE device_hash IS NOT NULL AND via = 'me_too';
    CREATE INDEX incident_supporter_device_recent ON incident_supporter (device_hash, joined_at)
        WHERE device_hash IS NOT NULL AND via = 'me_too';
    DROP FUNCTION duplicate_candidates(text, float8, float8, float8, int, bigint, int);
    """ + _candidates(public_id=True))


def downgrade() -> None:
    op.execute("""
    DROP FUNCTION duplicate_candidates(text, float8, float8, float8, int, bigint, int);
    DROP INDEX incident_supporter_device_recent;
    DROP INDEX incident_supporter_device;
    DROP INDEX incident_supporter_code;
    ALTER TABLE incident_supporter DROP COLUMN role, DROP COLUMN device_hash, DROP COLUMN tracking_code;
    """ + _candidates(public_id=False))
