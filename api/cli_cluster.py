"""``gridgov cluster``: etcd and three PostgreSQL nodes under Patroni on this machine (``api.cluster``),
what production runs on three hosts: a primary, a synchronous standby and an asynchronous replica."""

from __future__ import annotations

import sys

import typer

from api.cli_exit import ExitCode
from api.cli_support import AS_JSON, print_json

cluster_app = typer.Typer(help="A local Patroni cluster (etcd + 3 PostgreSQL nodes) under .gridgov/cluster",
                          no_args_is_help=True)


def _layout():
    from api.cluster.layout import Layout
    from api.settings import get_settings

    return Layout.of(get_settings())


def _print_members(view: dict) -> None:
    typer.echo(f"etcd: {view['etcd']}" if "etcd" in view else "")
    for m in view["members"]:
        lag = "" if m["lag"] is None else f", lag {m['lag']} B"
        tl = "" if m["timeline"] is None else f", timeline {m['timeline']}"
        typer.echo(f"  {m['name']} 127.0.0.1:{m['port']}: {m['role']}, {m['state']}{lag}{tl}"
                   + (" (nosync: asynchronous replica)" if m["nosync"] else ""))


@cluster_app.command("up")
def cluster_up(as_json: bool = AS_JSON):
    """Start etcd and three Patroni nodes (bootstrap on first use), wait for a primary and a streaming
    synchronous standby, migrate, and print the GRIDGOV_DATABASE_URL to use. Idempotent."""
    from api.cluster import manage

    layout = _layout()
    manage.require()
    with typer.progressbar(length=manage.UP_STEPS, label="cluster up", file=sys.stderr if as_json else None) as bar:
        done = manage.up(layout, step=lambda _: bar.update(1))
    if as_json:
        print_json(done)
        return
    _print_members({"members": done["members"]})
    typer.echo(f"database at revision {done['revision']}")
    typer.echo(f"GRIDGOV_DATABASE_URL='{done['url']}'")


@cluster_app.command("down")
def cluster_down():
    """Stop the Patroni nodes (each stops its PostgreSQL), then etcd. The data stays for the next up."""
    from api.cluster import manage

    stopped = manage.down(_layout())
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@cluster_app.command("status")
def cluster_status(as_json: bool = AS_JSON):
    """Each node's role (leader, sync_standby, replica), state and replication lag from Patroni's REST API;
    exit 3 when there is no running leader."""
    from api.cluster import manage

    view = manage.status(_layout())
    if as_json:
        print_json(view)
    else:
        _print_members(view)
        typer.echo(f"GRIDGOV_DATABASE_URL='{view['url']}'")
    if not any(m["role"] in ("leader", "master") and m["state"] == "running" for m in view["members"]):
        raise typer.Exit(ExitCode.ENVIRONMENT)
