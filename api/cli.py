"""``gridgov`` command line: database, migrations, sample data, server, routing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import typer

from api.settings import PROJECT_ROOT, get_settings, libpq_url

app = typer.Typer(help="gridgov: grid-based grassroots governance on PostGIS", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: embedded PostgreSQL cluster or DATABASE_URL", no_args_is_help=True)
app.add_typer(db_app, name="db")
user_app = typer.Typer(help="Accounts and their role grants", no_args_is_help=True)
app.add_typer(user_app, name="user")


def fail(message: str, code: int = 1):
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _settings_or_exit():
    """The settings, or a plain message and exit 2 when they are refused (missing secrets ...)."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        fail("refusing to start: " + "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors()), 2)


def _calendar_settings_or_exit():
    """The settings, checked as far as deadlines need them: a broken GRIDGOV_CALENDAR_FILE is a plain
    message and exit 2 (the server refuses to start with it too)."""
    from api.workflow.deadlines import base_calendar

    settings = _settings_or_exit()
    try:
        base_calendar(settings)
    except ValueError as exc:
        fail(f"refusing to start: {exc}", 2)
    return settings


@db_app.command("start")
def db_start():
    """Start the embedded cluster (initdb on first use) and create the database with PostGIS."""
    from api.embedded_pg import ClusterError, EmbeddedCluster, ensure_extensions

    settings = get_settings()
    try:
        if settings.embedded:
            EmbeddedCluster(settings).start(say=typer.echo)
        else:
            typer.echo("DATABASE_URL is set: using that server")
            ensure_extensions(libpq_url(settings.url))
    except ClusterError as exc:
        fail(str(exc))
    typer.echo(f"database ready: {settings.pg_database if settings.embedded else 'DATABASE_URL'}")


@db_app.command("stop")
def db_stop():
    """Stop the embedded cluster."""
    from api.embedded_pg import EmbeddedCluster

    settings = get_settings()
    if not settings.embedded:
        fail("DATABASE_URL is set: nothing embedded to stop")
    EmbeddedCluster(settings).stop()
    typer.echo("stopped")


@db_app.command("status")
def db_status():
    """Say whether the database is up."""
    from api.embedded_pg import status

    typer.echo(status(get_settings()))


@db_app.command("psql")
def db_psql():
    """Open psql on the gridgov database."""
    url = libpq_url(get_settings().url)
    os.execvp("psql", ["psql", url])


@app.command()
def migrate(revision: str = typer.Argument("head")):
    """Run alembic migrations (upgrade to head by default)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    # alembic's config interpolates '%': a percent-encoded URL (a socket path, a password) needs '%%'
    cfg.set_main_option("sqlalchemy.url", get_settings().url.replace("%", "%%"))
    command.upgrade(cfg, revision)
    typer.echo(f"migrated to {revision}")


def _sync_transaction(work):
    """Run ``work(conn)`` in one transaction on a sync SQLAlchemy engine: the sample loaders'
    bulk geometry writes (``spatial.sample_load``), the one use of SQLAlchemy outside alembic."""
    from sqlalchemy import create_engine

    engine = create_engine(get_settings().url)
    try:
        with engine.begin() as conn:
            return work(conn)
    finally:
        engine.dispose()


async def _connect(url: str):
    """A psycopg connection for one command: its statements in one transaction (``async with``
    commits it, or rolls it back on error), tuned like the app's (``api.db.tune``)."""
    import psycopg

    from api.db import tune

    conn = await psycopg.AsyncConnection.connect(libpq_url(url))
    tune(conn)
    return conn


def _in_transaction(work):
    """Run ``await work(conn)`` in one transaction on the configured database; print input errors plainly."""
    from api.errors import ApiError
    from spatial.errors import InputError

    async def run():
        async with await _connect(get_settings().url) as conn:  # committed on success, rolled back on error
            return await work(conn)

    try:
        return asyncio.run(run())
    except InputError as exc:
        fail(f"{exc.field}: {exc.reason}", 2)
    except ApiError as exc:
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")


@app.command("load-sample")
def load_sample():
    """Load the Nanxun sample and its accounts (idempotent: a second run changes nothing)."""
    from api.sample_accounts import create_sample_accounts
    from spatial.sample_load import load_sample as load

    settings = get_settings()
    started = time.perf_counter()
    _check_deadline_order()
    counts = _sync_transaction(lambda conn: load(conn, progress=lambda m: typer.echo(f"  {m}")))
    counts["accounts"], path = _in_transaction(lambda conn: create_sample_accounts(conn, settings.data_dir))
    typer.echo(f"sample loaded in {time.perf_counter() - started:.1f}s; new rows: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))
    typer.echo(f"sample accounts and their passwords: {path}")


def _check_deadline_order() -> None:
    """The sample's categories give no higher priority a later deadline (refused before loading)."""
    from api.workflow.deadline_order import order_problems
    from spatial.sample_load import SAMPLE_DIR

    catalog = json.loads((SAMPLE_DIR / "catalog.json").read_text(encoding="utf-8"))
    problems = [f"category {c['code']}: {p}" for c in catalog["categories"] for p in order_problems(c["deadlines"])]
    if problems:
        typer.echo("the sample's catalogue is refused:\n  " + "\n  ".join(problems), err=True)
        raise typer.Exit(2)


@app.command("refresh-units")
def refresh_units():
    """Give the sample units fresh simulated GPS fixes (demo heartbeat)."""
    from spatial.sample_load import refresh_unit_fixes

    n = _sync_transaction(refresh_unit_fixes)
    typer.echo(f"refreshed {n} unit positions")


@app.command()
def qr(area: str = typer.Option(..., "--area", help="a grid, or a community, street or district: all its grids"),
       out: Path = typer.Option(Path("posters"), "--out", help="folder for the posters"),
       fmt: str = typer.Option("both", "--format", help="svg, pdf or both")):
    """Write the printable A4 QR poster (SVG and PDF) of each grid: its signed link to the report page."""
    from api import posters
    from api.routes.posters import public_url

    formats = {"both": ("svg", "pdf"), "svg": ("svg",), "pdf": ("pdf",)}.get(fmt)
    if formats is None:
        fail(f"--format must be svg, pdf or both, not {fmt!r}", 2)
    settings = _settings_or_exit()
    made = _in_transaction(lambda conn: posters.of_area(conn, public_url(settings), settings.qr_key, area))
    if not made:
        fail(f"no grid found at or under area {area!r}", 2)
    out.mkdir(parents=True, exist_ok=True)
    with typer.progressbar(made, label="posters") as grids:
        for grid, url in grids:
            for f in formats:
                render, _ = posters.RENDERERS[f]
                content = render(url, grid)
                if isinstance(content, str):
                    content = content.encode()
                (out / f"poster-{grid['code']}.{f}").write_bytes(content)
    typer.echo(f"{len(made)} grid poster(s) ({', '.join(formats)}) written to {out}/ "
               f"(links to {public_url(settings)}/report)")


report_app = typer.Typer(help="Reports written to files", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("heatmap")
def report_heatmap(
    start: datetime = typer.Option(..., "--from", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   help="window start (times in GRIDGOV_TIMEZONE)"),
    stop: datetime = typer.Option(..., "--to", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                  help="window end"),
    area: str = typer.Option(None, "--area", help="only reports under this area (a street, a community, ...)"),
    category: str = typer.Option(None, "--category", help="comma-separated category codes"),
    resolution: int = typer.Option(8, "--resolution", min=5, max=9, help="H3 resolution of the hexagons"),
    out: Path = typer.Option(Path("heatmap.html"), "--out", help="the HTML file to write"),
    lang: str = typer.Option("zh", "--lang", help="the report's language: a catalogue of web/static/i18n/ (zh, en)"),
):
    """A standalone heatmap page of a time window: opens with no network (folium, inlined assets)."""
    from api.heat import service as heat_service
    from api.reports import heatmap, offline

    settings = _settings_or_exit()

    async def work(conn):
        from spatial.sqlfiles import sql

        if area and not (await sql.fetchone(conn, "area_outline", {"code": area})):
            fail(f"no current area {area!r}", 2)
        f = await heat_service.filters(conn, category=category, status=None, tier=None, source=None)
        lo, hi = heat_service.window(start, stop, settings)
        return await heatmap.build(conn, start=lo, stop=hi, area=area, resolution=resolution, category=f.categories,
                                   timezone=settings.timezone, lang=lang)

    try:
        page, summary = _in_transaction(work)
    except offline.MissingAsset as exc:
        fail(str(exc), 2)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"{out}: {summary['total']} reports in {summary['hexagons']} hexagons "
               f"(resolution {summary['resolution']}, busiest {summary['max']})")


routing_index_app = typer.Typer(help="The routing index: cells that answer point-in-grid without a polygon test")
app.add_typer(routing_index_app, name="routing-index")


@routing_index_app.command("rebuild")
def routing_index_rebuild():
    """Rebuild the routing index from the current grids and zones (edits keep it current by themselves)."""
    import psycopg

    from spatial.routing_index import rebuild

    started = time.perf_counter()
    url = libpq_url(get_settings().url)
    with psycopg.connect(url) as conn:  # one transaction, committed on success
        count = rebuild(conn, progress=lambda m: typer.echo(f"  {m}"))
    # the replaced rows' space for the next rebuild, fresh statistics
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE routing_cell")
    typer.echo(f"routing index rebuilt: {count:,} cells in {time.perf_counter() - started:.1f}s")


@app.command("route-file")
def route_file(source: Path = typer.Argument(..., help="points: .csv (lon, lat, id), .geojson or .gpkg"),
               out: Path = typer.Argument(..., help="the routed points: .csv, .geojson or .gpkg"),
               crs: str = typer.Option("wgs84", help="wgs84 | gcj02 | bd09")):
    """Route a file of points (up to 100,000): grid, community, street, district, zone, workstation."""
    from spatial import batch
    from spatial.errors import InputError
    from spatial.routing import route_many

    try:
        points = _read_points(source)
        if points.problems:
            for p in points.problems[:batch.MAX_PROBLEMS]:
                typer.secho(f"row {p['row']}: {p['field']}: {p['reason']}", fg=typer.colors.RED, err=True)
            fail(f"{len(points.problems)} row(s) cannot be routed; nothing was written", 2)
        points = batch.to_wgs84(points, crs)
    except (InputError, ValueError) as exc:
        fail(f"{getattr(exc, 'field', 'file')}: {getattr(exc, 'reason', exc)}", 2)
    chunks = range(0, len(points.ids), 10_000)

    async def work(conn):
        rows = []
        with typer.progressbar(chunks, label=f"routing {len(points.ids):,} points") as bar:
            for start in bar:
                rows += await route_many(conn, points.lons[start:start + 10_000], points.lats[start:start + 10_000])
        return rows

    rows = _in_transaction(work)
    _write_points(out, points, rows)
    inside = sum(1 for r in rows if r["grid_code"])
    typer.echo(f"{out}: {len(rows):,} points, {inside:,} inside a grid, {len(rows) - inside:,} outside every grid")


def _read_points(path: Path):
    from spatial import batch

    suffix = path.suffix.lower()
    if suffix == ".csv":
        return batch.read_csv(path.read_text(encoding="utf-8-sig"))
    if suffix in (".geojson", ".json"):
        return batch.read_geojson(path.read_bytes())
    if suffix == ".gpkg":
        import geopandas as gpd

        frame = gpd.read_file(path).to_crs(4326)
        return batch.read_geojson(frame.to_json(drop_id=True).encode())  # properties.id, if any, is the id
    fail(f"{path}: use .csv, .geojson or .gpkg", 2)


def _write_points(path: Path, points, rows) -> None:
    from spatial import batch

    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(batch.csv_chunk(points.ids, points.lons, points.lats, rows, header=True), encoding="utf-8")
    elif suffix in (".geojson", ".json"):
        path.write_bytes(b'{"type":"FeatureCollection","features":[' + batch.geojson_chunk(
            points.ids, points.lons, points.lats, rows, first=True) + b"]}")
    elif suffix == ".gpkg":
        import geopandas as gpd

        columns = {c: [r[c] for r in rows] for c in batch.ANSWER_COLUMNS}
        gpd.GeoDataFrame({"id": points.ids, **columns}, geometry=gpd.points_from_xy(points.lons, points.lats),
                         crs=4326).to_file(path, layer="routed", driver="GPKG")
    else:
        fail(f"{path}: use .csv, .geojson or .gpkg", 2)


@app.command("import-incidents")
def import_incidents(
    file: Path = typer.Argument(..., help=".csv, .gpkg or .geojson: id, lon, lat (or a point), category, reported_at"
                                          "[, status, closed_at, priority, description]"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check every row, write nothing"),
    system: str = typer.Option(None, "--system", help="the other system's name (default: the file's name); "
                                                      "its ids are unique within it, so a second import adds nothing"),
):
    """Load a history of incidents from another system: routed in bulk, written with COPY."""
    import getpass

    from api import incident_import

    settings = _settings_or_exit()
    if not file.is_file():
        fail(f"{file}: no such file", 2)

    async def work(conn):
        loaded = await incident_import.check(conn, file, settings)
        if loaded.problems or dry_run:
            return loaded, None
        with typer.progressbar(length=len(loaded.rows), label=f"routing {len(loaded.rows):,} incidents") as bar:
            counts = await incident_import.apply(
                conn, loaded, settings, system=system or file.stem, actor=f"cli:{getpass.getuser()}",
                progress=lambda done, total: bar.update(done - bar.pos))
        return loaded, counts

    try:
        loaded, counts = _in_transaction(work)
    except ValueError as exc:
        fail(str(exc), 2)
    for p in loaded.problems[:200]:
        typer.secho(f"row {p['row']}: {p['field']}: {p['reason']}", fg=typer.colors.RED, err=True)
    if loaded.problems:
        fail(f"{len(loaded.problems)} problem(s) in {file}; nothing was written", 1)
    if counts is None:
        typer.echo(f"{file}: {len(loaded.rows):,} rows, no problems (dry run: nothing written)")
    else:
        typer.echo(f"{file}: {counts['inserted']:,} incidents imported, {counts['already_there']:,} already there, "
                   f"{counts['unrouted']:,} outside every grid")


@app.command()
def supervise():
    """Run one round of the deadline scheduler now (the app runs one every minute)."""
    from api.workflow.supervision import tick

    settings = _calendar_settings_or_exit()
    raised = _in_transaction(lambda conn: tick(conn, settings=settings))
    if raised is None:
        typer.echo("another worker is running the round; nothing done")
    else:
        typer.echo("flags raised: " + (", ".join(f"{k} {v}" for k, v in sorted(raised.items())) or "none"))


@app.command()
def validate(code: str = typer.Argument(None, help="an area: the partitions at and below it (default: everything)")):
    """List every violation of the partitions (gaps, overlaps, outside the parent, invalid,
    multipart, slivers) per parent; exit 1 if there is any."""
    from api.areas.validation import tree

    found = _in_transaction(lambda conn: tree(conn, code))
    for parent, items in found.items():
        typer.echo(f"{parent}: {len(items)} violation(s)")
        for v in items:
            typer.echo(f"  {v['reason']:<17} {', '.join(v['codes']) or '-'}: {v['detail']}")
    total = sum(len(v) for v in found.values())
    typer.echo(f"{total} violation(s) under {len(found)} parent(s)" if total else "no violations")
    raise typer.Exit(1 if total else 0)


calendar_app = typer.Typer(help="The working calendar: official holiday schedules, provisional years")
app.add_typer(calendar_app, name="calendar")

SCHEDULE_FORMAT = "\n".join((  # one line a paragraph: the help keeps line breaks as they are
    "The file (UTF-8 JSON), as the State Council's notice publishes a year:",
    "",
    '  {"years": [2027],',
    '   "holidays": ["2027-01-01", "2027-02-05", ...],',
    '   "workdays": ["2027-02-14", ...],',
    '   "notice": "国务院办公厅关于2027年部分节假日安排的通知"}',
    "",
    "years: the years the file gives in full (1950-2100). holidays: every day off of their holiday blocks, "
    "weekend days inside a block included. workdays: the Saturdays and Sundays worked in exchange (调休上班), "
    "may be empty. notice: optional, where the schedule comes from.",
    "",
    "Every statutory holiday on a weekday must be listed. A date outside years, listed twice, both off and "
    "worked, or a 'working day' that is a weekday anyway refuses the whole file (exit 2), each problem named "
    "by its field (holidays[3]). Loading the same file again changes nothing.",
))


@calendar_app.callback(invoke_without_command=True)
def calendar(ctx: typer.Context):
    """Show which years have official holiday data and which are provisional (statutory holidays,
    no swapped working days), until when the official data reaches, and how many open deadlines are
    provisional. Exit 1 when this year has no official schedule."""
    if ctx.invoked_subcommand is not None:
        return
    from api.workflow import schedules

    settings = _calendar_settings_or_exit()
    doc = _in_transaction(lambda conn: schedules.status(conn, settings))
    p = doc["package"]
    typer.echo(f"official holiday data: {p['name']} {p['version']} ({p['first_year']}-{p['last_year']})"
               + "".join(f"; {y['year']} {y['source']}" + (f" ({y['notice']})" if y.get("notice") else "")
               for y in doc["years"] if y["source"] in ("loaded", "file")))
    end = doc["official_until"]
    typer.echo(f"official until {end or '-'} (today {doc['today']})")
    for y in doc["years"]:
        line = f"  {y['year']}  {y['source']}"
        if y["source"] in ("loaded", "file"):
            line += f": {y['holidays']} days off, {y['workdays']} weekend days worked"
            if y.get("loaded_by"):
                line += f"; loaded by {y['loaded_by']} at {y['loaded_at']:%Y-%m-%d %H:%M}"
        if y.get("days_off"):
            line += ": statutory holidays " + ", ".join(f"{d['date']:%m-%d}" for d in y["days_off"])
            line += "; no swapped working days (unknown until published)"
        typer.echo(line)
    n = doc["provisional_open"]
    typer.echo(f"open cases with a provisional deadline: {n['cases']} (department calls: {n['department_calls']})")
    if doc["warning"]:
        typer.secho(f"warning: {doc['warning']}", fg=typer.colors.YELLOW, err=True)
    if end is None or end < doc["today"]:
        raise typer.Exit(1)


@calendar_app.command("load", help="Load official holiday schedules from FILE into the database and recompute "
                                   "every provisional deadline of the open cases, in one transaction.\n\n"
                                   + SCHEDULE_FORMAT)
def calendar_load(file: Path = typer.Argument(..., help="the schedule file (JSON)")):
    from api.workflow import schedule_file, schedules

    settings = _calendar_settings_or_exit()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", 2)
    except ValueError as exc:
        fail(f"{file}: not JSON: {exc}", 2)
    try:
        schedule_file.parse(doc)
    except schedule_file.ScheduleError as exc:
        for field, reason in exc.problems:
            typer.secho(f"{file}: {field}: {reason}", fg=typer.colors.RED, err=True)
        fail(f"{file}: refused, nothing loaded", 2)
    report = _in_transaction(lambda conn: schedules.load(conn, _cli_admin(), doc, settings,
                                                         source=f"file {file.name}"))
    for y in report["years"]:
        typer.echo(f"{y['year']}: {y['change']} ({y['holidays']} days off, {y['workdays']} weekend days worked)")
    typer.echo(f"recomputed {report['recomputed']} provisional deadline(s) of open cases")
    typer.echo(f"official until {report['official_until'] or '-'}")
    if report["warning"]:
        typer.secho(f"warning: {report['warning']}", fg=typer.colors.YELLOW, err=True)


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None), reload: bool = False,
          workers: int = typer.Option(None, min=1, help="worker processes (default: the usable cores)")):
    """Serve the app (map at /, OpenAPI docs at /docs), one worker process per core by default.

    The workers share only the database: sessions, rate limits and the scheduler's rounds live
    there, and each worker's caches follow the NOTIFYs of migration 0013."""
    import uvicorn

    settings = _calendar_settings_or_exit()
    host = host or settings.host
    port = port or settings.port
    workers = 1 if reload else (workers or len(os.sched_getaffinity(0)))
    os.environ["GRIDGOV_WORKERS"] = str(workers)  # each worker checks the connections they need (api.db)
    from api.db import PoolDoesNotFit, check_budget_sync

    try:
        check_budget_sync(settings.model_copy(update={"workers": workers}))
    except PoolDoesNotFit as exc:
        fail(f"refusing to start: {exc}", 2)
    typer.echo(f"gridgov on http://{host}:{port}  (map /, API docs /docs); {workers} worker(s)")
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, reload=reload, workers=workers,
                loop="uvloop", http="httptools",
                proxy_headers=False, log_level="info", access_log=False)  # gridgov logs each request as JSON


@app.command()
def route(lon: float, lat: float, category: str = typer.Option(..., "--category", "-c"),
          accuracy: float = typer.Option(None, help="GPS accuracy in metres"),
          crs: str = typer.Option("wgs84", help="wgs84 | gcj02 | bd09")):
    """Route one point and print the routing document as JSON."""
    from api.incidents import routing_options
    from spatial.routing import route_point

    options = routing_options(get_settings())
    doc = _in_transaction(lambda conn: route_point(conn, lon, lat, category, accuracy_m=accuracy,
                                                   input_crs=crs, options=options))
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


@user_app.command("add")
def user_add(username: str,
             unit: str = typer.Option(None, help="unit code, for officers"),
             name: str = typer.Option("", help="display name"),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin")):
    """Create an account. Without --password-stdin a random password is generated and printed once."""
    from api.auth import passwords, users

    password = sys.stdin.readline().rstrip("\n") if password_stdin else passwords.random_password()
    _in_transaction(lambda conn: users.create_user(conn, username, password, display_name=name, unit_code=unit))
    typer.echo(f"created {username}" + ("" if password_stdin else f"; password (shown once): {password}"))


@user_app.command("grant")
def user_grant(username: str, role: str, area: str = typer.Argument(..., help="area code: the scope")):
    """Grant a role over an area and everything under it."""
    from api.auth import users

    _in_transaction(lambda conn: users.grant(conn, username, role, area))
    typer.echo(f"granted {role} over {area} to {username}")


@user_app.command("revoke")
def user_revoke(username: str, role: str, area: str = typer.Argument(None, help="area code (all areas if omitted)")):
    """Take a role away (over one area, or everywhere)."""
    from api.auth import users

    n = _in_transaction(lambda conn: users.revoke(conn, username, role, area))
    typer.echo(f"revoked {n} grant(s)")


@user_app.command("deactivate")
def user_deactivate(username: str):
    """Deactivate an account: it can no longer log in or refresh, and its sessions end at once."""
    from api.auth import users

    n = _in_transaction(lambda conn: users.set_active(conn, username, False))
    typer.echo(f"deactivated {username}; ended {n} session(s)")


@user_app.command("activate")
def user_activate(username: str):
    """Let a deactivated account log in again."""
    from api.auth import users

    _in_transaction(lambda conn: users.set_active(conn, username, True))
    typer.echo(f"activated {username}")


@user_app.command("list")
def user_list():
    """List accounts and their grants."""
    from api.auth import users

    for u in _in_transaction(users.list_users):
        state = "" if u["active"] else " (inactive)"
        unit = f" unit={u['unit_code']}" if u["unit_code"] else ""
        typer.echo(f"{u['username']}{state}{unit}\t{', '.join(u['grants']) or '-'}")


apikey_app = typer.Typer(help="Open311 client apps and their API keys", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("add")
def apikey_add(name: str = typer.Argument(..., help="the client app's name")):
    """Register an Open311 client app; its API key is printed once (only a keyed digest is stored)."""
    from api.open311 import clients

    settings = _settings_or_exit()
    key = _in_transaction(lambda conn: clients.add(conn, settings.secret_key, name))
    typer.echo(f"created client {name.strip()}; api_key (shown once): {key}")


@apikey_app.command("list")
def apikey_list():
    """List the client apps (never their keys) and the requests each has posted."""
    from api.open311 import clients

    for c in _in_transaction(clients.listing):
        state = f"revoked {c['revoked_at']:%Y-%m-%d %H:%M}" if c["revoked_at"] else "active"
        typer.echo(f"{c['name']}\t{state}\tcreated {c['created_at']:%Y-%m-%d %H:%M}\t{c['requests']} request(s)")


@apikey_app.command("revoke")
def apikey_revoke(name: str):
    """Revoke a client app's key at once (its requests stay)."""
    from api.open311 import clients

    changed = _in_transaction(lambda conn: clients.revoke(conn, name))
    typer.echo(f"revoked the key of {name.strip()}" if changed else f"the key of {name.strip()} was already revoked")


# ---------------------------------------------------------------- layer files (import / export)

def _cli_admin():
    """The command line acts as an admin (whoever runs it owns the database); audited as cli:<user>."""
    import getpass

    from api.auth.principal import Grant, Principal

    return Principal(username=f"cli:{getpass.getuser()}", user_id=0, grants=(Grant("admin", "*"),), client="cli")


def _print_import_report(report: dict) -> None:
    s = report["summary"]
    typer.echo(f"{s['features']} feature(s) in the {report['file_format']} file ({report['crs']}"
               f"{', converted ' + report['converted'] if report['converted'] else ''}): "
               f"{s['created']} new, {s['changed']} changed, {s['unchanged']} unchanged, {s['missing']} missing "
               f"from the file{' (retired)' if report['retire_missing'] and s['missing'] else ''}, "
               f"{s['errors']} problem(s)")
    for f in report["features"]:
        for p in f["problems"]:
            typer.secho(f"  row {f['row']} {f['code'] or '-'}: {p['field']}: {p['reason']}: {p['detail']}",
                        fg=typer.colors.RED)
        if f["change"] == "changed":
            typer.echo(f"  row {f['row']} {f['code']}: changed {', '.join(f['changed'])}")
    for p in report["layer_problems"]:
        typer.secho(f"  {p['reason']}: {p['detail']}", fg=typer.colors.RED)
    if report["missing"]:
        typer.echo(f"  missing from the file: {', '.join(report['missing'][:50])}"
                   f"{' ...' if len(report['missing']) > 50 else ''}"
                   f"{'' if report['retire_missing'] else ' (kept; --retire-missing retires them)'}")
    typer.echo(report["message"])


@app.command("import")
def import_layer(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON, GeoPackage, zipped Shapefile or KML"),
    layer: str = typer.Option(..., "--layer", help="street, community, grid, zone or patrol_zone"),
    parent: str = typer.Option(..., "--parent", help="the area code the file's areas lie under"),
    dry_run: bool = typer.Option(False, "--dry-run", help="only report every feature's problems"),
    crs: str = typer.Option(None, "--crs", help="gcj02 or bd09 (the file's lon/lat datum), or EPSG:<code>"),
    reason: str = typer.Option(None, "--reason", help="the note kept with the new versions"),
    retire_missing: bool = typer.Option(False, "--retire-missing",
                                        help="retire the areas under the parent that the file lacks"),
):
    """Import a layer file: check every feature (problems listed with their row), then save all
    changes as new versions in one transaction, or nothing."""
    from rich.progress import Progress

    from api.areas import files
    from api.errors import ApiError
    from spatial.errors import InputError

    labels = {"read": "read the file", "compare": "compare features", "validate": "check the partition",
              "save": "save versions"}
    settings = _settings_or_exit()

    async def run(say):
        async with await _connect(settings.url) as conn:  # committed on success, rolled back on error
            return await files.import_layer(conn, _cli_admin(), path=file, filename=file.name, layer=layer,
                                            parent=parent, dry_run=dry_run, source_crs=crs, reason=reason,
                                            retire_missing=retire_missing, progress=say)

    try:
        with Progress(transient=True) as bar:
            tasks: dict[str, int] = {}

            def say(stage: str, done: int, total: int):
                if stage not in tasks:
                    tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = asyncio.run(run(say))
    except InputError as exc:
        fail(f"{exc.field}: {exc.reason}", 2)
    except ApiError as exc:
        if "report" in exc.extra:
            _print_import_report(exc.extra["report"])
            raise typer.Exit(1) from None
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}")
    _print_import_report(report)
    if report["summary"]["errors"]:
        raise typer.Exit(1)


@app.command("export")
def export_layer(
    layer: str = typer.Option(..., "--layer", help="district, street, community, grid, zone or patrol_zone"),
    out: Path = typer.Option(..., "--out", help="FILE.gpkg, .geojson, .shp.zip or .kml (the format follows)"),
    parent: str = typer.Option(None, "--parent", help="only the areas under this code"),
    as_of: str = typer.Option(None, "--as-of", help="boundaries as they were then (ISO-8601)"),
):
    """Export a layer, current or as of a past time, to a file."""
    from datetime import datetime

    from api.areas import files
    from api.params import parse_time
    from spatial.errors import InputError
    from spatial.io.formats import format_of_name

    fmt = format_of_name(out.name)
    if fmt is None:
        fail("--out must end in .gpkg, .geojson, .shp.zip or .kml", 2)
    when = None
    if as_of:
        try:
            parsed = datetime.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not an ISO-8601 time (2026-11-30T10:00:00+08:00)", 2)
        try:
            when = parse_time(parsed, get_settings().timezone, "--as-of")
        except InputError as exc:
            fail(f"{exc.field}: {exc.reason}", 2)
    content, _ = _in_transaction(lambda conn: files.export_layer(conn, _cli_admin(), layer=layer, parent=parent,
                                                                 fmt=fmt.key, as_of=when))
    out.write_bytes(content)
    typer.echo(f"wrote {out} ({len(content)} bytes)")


if __name__ == "__main__":
    app()
