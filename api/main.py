"""Wire the app: settings, connection pool, error handlers, security, routers, static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import clock, demo_heartbeat, errors, metrics, public_address, security
from api.auth.access import RateLimiter
from api.auth.cache import PrincipalCache
from api.auth.passwords import warm_up
from api.db import make_pool, open_pool
from api.live.hub import LiveHub, listening
from api.requestlog import RequestLogMiddleware, configure_logging
from api.routes import (
    admin,
    area_files,
    areas,
    attachments,
    auth,
    basemap as basemap_routes,
    calendar,
    cases,
    catalog,
    disclosure,
    handover,
    health,
    heat,
    incidents,
    inspections,
    kpis,
    live,
    metrics as metrics_routes,
    monthly_reports,
    ogc,
    open311,
    pages,
    patrols,
    places,
    posters,
    public,
    routing,
    stars,
    surveys,
    tiles,
    units,
)
from api.settings import PROJECT_ROOT, Settings, get_settings
from api.tiles.cache import TileCache
from api.workflow import deadlines, supervision

VENDOR = {  # URL path -> directory in web/node_modules (installed by `npm ci`)
    "/vendor/leaflet": "leaflet/dist",
    "/vendor/geoman": "@geoman-io/leaflet-geoman-free/dist",
    "/vendor/vectorgrid": "leaflet.vectorgrid/dist",
    "/vendor/markercluster": "leaflet.markercluster/dist",
    "/vendor/leaflet-heat": "leaflet.heat/dist",
    "/vendor/swagger-ui": "swagger-ui-dist",
    "/vendor/echarts": "echarts/dist",  # the dashboard's charts (Apache ECharts)
}
# Matched in this order, one by one: the hot paths first (tiles, routing, intake). area_files
# before areas: /api/areas/export and /import are not area codes.
ROUTERS = (tiles, routing, incidents, auth, catalog, area_files, areas, places, ogc, posters, cases, attachments,
           handover, public, basemap_routes, units, admin, calendar, open311, live, heat, kpis, pages, health,
           metrics_routes, surveys, disclosure, monthly_reports, patrols, inspections, stars)


async def _warn_about_the_calendar(pool, settings: Settings) -> None:
    """Log when the official holiday data ends soon (the scheduler tells the district desks)."""
    log = logging.getLogger("gridgov.deadlines")
    try:
        async with pool.connection() as conn:
            cal = await deadlines.calendar(conn, settings)
    except Exception as exc:  # the database is not up yet: the scheduler's rounds will say it
        log.warning("working calendar not checked at start: %s", type(exc).__name__)
        return
    warning = deadlines.coverage_warning(cal, clock.now().astimezone(cal.tz).date())
    if warning:
        log.warning(warning)


from api import basemap  # noqa: E402
from api.patrols.rounds import patrol_round  # noqa: E402


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()

    deadlines.base_calendar(settings)  # a broken GRIDGOV_CALENDAR_FILE refuses to start, naming its problems
    basemap.check(settings)  # a base-map preset no page could draw refuses to start, naming its setting

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Each run stops what it started (local names, not app.state, which a second server of
        # the same app object, as in the tests, replaces).
        pool = app.state.pool = make_pool(settings)  # (the latest server's, for inspection)
        loop = asyncio.get_running_loop()
        app.state.pools[loop] = pool  # requests take the pool of their own loop (api.db.pool_of)
        await open_pool(pool, settings)  # refuses to start when the workers' pools don't fit the cluster
        hub = app.state.live = LiveHub(pool, settings)  # this worker's one LISTEN connection
        hub.on_cache("sessions", app.state.principals.note)
        hub.on_cache("users", app.state.principals.note)
        hub.on_cache("areas", app.state.tiles.boundaries_changed)
        hub.on_cache("places", app.state.place_tiles.boundaries_changed)
        hub.on_cache("calendar", deadlines.forget)
        hub.start()
        await warm_up()
        await _warn_about_the_calendar(pool, settings)
        scheduler = None
        if settings.supervision_interval_s > 0:
            extras = (patrol_round,)  # the same timer: patrol retention and unpatrolled grids
            extras += (demo_heartbeat.heartbeat,) if settings.heartbeat_on else ()
            scheduler = asyncio.create_task(supervision.run_forever(pool, settings, app.state.scheduler, extras))
        publishing = metrics.shared.start(app)  # with several workers: this one's state, for every scrape
        yield
        await metrics.shared.stop(publishing)  # and its live gauges vanish
        if scheduler is not None:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
        await hub.stop()
        app.state.pools.pop(loop, None)
        await pool.close()

    app = FastAPI(title="gridgov", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Grid-based grassroots governance: routing, dispatch and maps (网格化基层治理)")
    app.state.settings = settings
    app.state.pools = {}  # event loop -> its pool (api.db.pool_of)
    app.state.rate_limiter = RateLimiter(settings.public_rate_per_minute, settings.public_ip_rate_per_minute)
    app.state.principals = PrincipalCache(settings.auth_cache_s, trusted=lambda: listening(app))
    app.state.tiles = TileCache()  # rendered area tiles of this worker
    app.state.place_tiles = TileCache(max_bytes=16 * 1024 * 1024)  # and places tiles
    app.state.scheduler = supervision.Rounds()  # the scheduler loop's last round (/metrics)
    errors.install(app)
    metrics.install(app)  # innermost middleware: sees the route the router matched
    security.install(app, settings)
    app.add_middleware(RequestLogMiddleware, settings=settings)  # logs every request, catches the rest
    public_address.install(app, settings)  # outermost: the caller behind a trusted proxy, for all of the above
    for module in ROUTERS:
        app.include_router(module.router)
    app.include_router(inspections.pages)  # /inspections, the station's page
    web = PROJECT_ROOT / "web"
    for path, rel in VENDOR.items():
        directory = web / "node_modules" / rel
        if directory.is_dir():
            app.mount(path, StaticFiles(directory=directory), name=path)
    app.mount("/static", StaticFiles(directory=web / "static", check_dir=False), name="static")
    return app
