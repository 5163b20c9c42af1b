"""``gridgov cluster up|down|status``: the local Patroni cluster's life. Every step is idempotent:
``up`` on a running cluster only checks it (and migrates), ``down`` on a stopped one does nothing."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from api.cluster import members, processes
from api.cluster.layout import Layout
from api.embedded_pg import ClusterError, _as_owner, ensure_postgis, pg_bindir

APT = "apt-get install -y patroni etcd-server etcd-client"
UP_STEPS = 8  # etcd, three nodes, a leader, a streaming synchronous standby, the database, the migrations
WAIT_S = 180.0


def require() -> dict[str, str]:
    """The programs the cluster runs; a ClusterError naming those missing and how to install them."""
    found = {name: shutil.which(name) for name in ("patroni", "etcd")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise ClusterError(f"{' and '.join(missing)} not installed (Debian packages patroni, etcd-server): "
                           f"run as root: {APT}")
    return {k: v for k, v in found.items() if v}


def _wait(what: str, check: Callable[[], object], layout: Layout, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            logs = ", ".join(str(n.dir / "patroni.log") for n in layout.nodes)
            raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}; see {layout.etcd_dir}.log, {logs}")
        time.sleep(0.3)
    return got


def _etcd_healthy(layout: Layout) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{layout.etcd_url}/health", timeout=1) as res:
            return b"true" in res.read()
    except OSError:
        return False


def _start_etcd(layout: Layout, etcd: str) -> None:
    pid_file = layout.root / "etcd.pid"
    if processes.pid_of(pid_file, str(layout.etcd_dir)):
        return
    processes.make_dir(layout.etcd_dir)
    processes.start([
        etcd, "--name", "gridgov", "--data-dir", str(layout.etcd_dir),
        "--listen-client-urls", layout.etcd_url, "--advertise-client-urls", layout.etcd_url,
        "--listen-peer-urls", layout.etcd_peer_url, "--initial-advertise-peer-urls", layout.etcd_peer_url,
        "--initial-cluster", f"gridgov={layout.etcd_peer_url}", "--initial-cluster-token", "gridgov",
        "--initial-cluster-state", "new",
    ], pid_file, layout.root / "etcd.log", layout.root)


def _start_node(layout: Layout, node, patroni: str, bindir: Path) -> None:
    processes.make_dir(node.dir)
    config = layout.render(node, bindir)
    if not node.config.exists() or node.config.read_text() != config:
        processes.write_owned(node.config, config)
    if processes.pid_of(node.dir / "patroni.pid", str(node.config)):
        return
    processes.start([patroni, str(node.config)], node.dir / "patroni.pid", node.dir / "patroni.log", node.dir)


def _sync_streams(layout: Layout, leader: dict) -> bool:
    """Whether the leader has a synchronous standby streaming (pg_stat_replication)."""
    try:
        with psycopg.connect(f"host=127.0.0.1 port={leader['port']} user={layout.user} dbname=postgres",
                             connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_replication "
                               "WHERE sync_state = 'sync' AND state = 'streaming'").fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def _ensure_database(layout: Layout, leader: dict) -> None:
    """The gridgov database with PostGIS on the leader (the standbys replay it)."""
    admin = f"host=127.0.0.1 port={leader['port']} user={layout.user} dbname=postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (layout.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{layout.database}"')
    with psycopg.connect(admin.replace("dbname=postgres", f"dbname={layout.database}"), autocommit=True,
                         connect_timeout=5) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def _migrate(url: str) -> str:
    """alembic upgrade head through the multi-host URL (as ``gridgov migrate`` with it set); the revision reached."""
    from alembic import command
    from alembic.config import Config

    from api.settings import PROJECT_ROOT, libpq_url, normalise_url

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    command.upgrade(cfg, "head")
    with psycopg.connect(libpq_url(normalise_url(url))) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else "?"


def up(layout: Layout, step: Callable[[str], None] = lambda _: None) -> dict:
    """Start what is not running, wait for a leader and a streaming synchronous standby, create the
    database with PostGIS and migrate it. Returns ``{"url", "revision", "members"}``."""
    programs = require()
    bindir = ensure_postgis(lambda _: None)
    processes.make_dir(layout.root)
    _start_etcd(layout, programs["etcd"])
    _wait("etcd to answer on " + layout.etcd_url, lambda: _etcd_healthy(layout), layout, 30)
    step("etcd")
    for node in layout.nodes:
        _start_node(layout, node, programs["patroni"], bindir)
        step(node.name)
    leader = _wait("a leader", lambda: members.leader(layout), layout)
    step(f"leader {leader['name']}")
    _wait("a synchronous standby streaming", lambda: _sync_streams(layout, members.leader(layout) or leader), layout)
    step("synchronous standby")
    leader = members.leader(layout) or leader
    _ensure_database(layout, leader)
    step("database")
    revision = _migrate(layout.url())
    step("migrations")
    return {"url": layout.url(), "revision": revision, "members": members.rows(layout)}


def down(layout: Layout) -> list[str]:
    """Stop every Patroni (each stops its PostgreSQL), then etcd; the names of what was stopped."""
    stopped = []
    pids = {}
    for node in layout.nodes:
        pid = processes.pid_of(node.dir / "patroni.pid", str(node.config))
        if pid:
            pids[node.name] = pid
    left = processes.stop(list(pids.values()))
    if left:
        raise ClusterError(f"Patroni (pid {', '.join(map(str, left))}) did not stop within "
                           f"{processes.STOP_WAIT_S:.0f} s; see its log under {layout.root}")
    stopped += list(pids)
    for node in layout.nodes:  # a PostgreSQL left behind by a Patroni that died: stop it too
        if (node.data / "postmaster.pid").exists():
            subprocess.run(_as_owner([str(pg_bindir() / "pg_ctl"), "-D", str(node.data), "-m", "fast", "-w",
                                      "stop"]), capture_output=True)
    etcd = processes.pid_of(layout.root / "etcd.pid", str(layout.etcd_dir))
    if etcd:
        if processes.stop([etcd]):
            raise ClusterError(f"etcd (pid {etcd}) did not stop; see {layout.root / 'etcd.log'}")
        stopped.append("etcd")
    return stopped


def status(layout: Layout) -> dict:
    """Each node's role, state and lag, whether etcd runs, and the URL."""
    etcd = bool(processes.pid_of(layout.root / "etcd.pid", str(layout.etcd_dir)))
    return {"etcd": "running" if etcd else "stopped", "url": layout.url(), "members": members.rows(layout)}
