"""The routing preview service: route a point, show what the caller may see of it."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from api.auth.policy import Capability, reach
from api.auth.principal import Principal
from api.incidents import routing_options
from api.schemas import RouteQuery
from api.settings import Settings
from spatial.routing import route_point


async def preview(pool: AsyncConnectionPool, who: Principal, q: RouteQuery, settings: Settings) -> dict:
    """The routing of a point with the units ``who`` may read (decided in the routing statement).

    ``pool``: the app's pool (``api.db.pool_of``): one statement, no BEGIN
    and COMMIT round trips."""
    async with pool.connection() as conn:
        return await route_point(conn, q.lon, q.lat, q.category, accuracy_m=q.accuracy_m, input_crs=q.crs,
                                 options=routing_options(settings),
                                 units_seen_by=reach(who, Capability.READ_UNITS).params())
