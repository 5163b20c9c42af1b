"""``gridgov`` command line: database, migrations, sample data, server, routing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
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
    """Run ``work(conn)`` in one transaction on a sync engine (bulk loading)."""
    from sqlalchemy import create_engine

    engine = create_engine(get_settings().url)
    try:
        with engine.begin() as conn:
            return work(conn)
    finally:
        engine.dispose()


def _in_transaction(work):
    """Run ``await work(conn)`` in one transaction on the configured database; print input errors plainly."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from api.errors import ApiError
    from spatial.errors import InputError

    async def run():
        engine = create_async_engine(get_settings().url)
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

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
    counts = _sync_transaction(lambda conn: load(conn, progress=lambda m: typer.echo(f"  {m}")))
    counts["accounts"], path = _in_transaction(lambda conn: create_sample_accounts(conn, settings.data_dir))
    typer.echo(f"sample loaded in {time.perf_counter() - started:.1f}s; new rows: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))
    typer.echo(f"sample accounts and their passwords: {path}")


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


@app.command()
def supervise():
    """Run one round of the deadline scheduler now (the app runs one every minute)."""
    from api.workflow.supervision import tick

    raised = _in_transaction(tick)
    if raised is None:
        typer.echo("another worker is running the round; nothing done")
    else:
        typer.echo("flags raised: " + (", ".join(f"{k} {v}" for k, v in sorted(raised.items())) or "none"))


@app.command()
def calendar():
    """Show the years the working-day calendar covers (deadlines past them cannot be set)."""
    from datetime import date

    from api.workflow.deadlines import calendar_of, coverage_warning

    settings = _settings_or_exit()
    first, last = calendar_of(settings).covered_years()
    typer.echo(f"working calendar covers {first}-{last}")
    warning = coverage_warning(settings)
    if warning:
        typer.echo(f"warning: {warning}", err=True)
    if last < date.today().year:
        raise typer.Exit(1)


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None), reload: bool = False):
    """Serve the app (map at /, OpenAPI docs at /docs)."""
    import uvicorn

    settings = _settings_or_exit()
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"gridgov on http://{host}:{port}  (map /, API docs /docs)")
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, reload=reload,
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


if __name__ == "__main__":
    app()
