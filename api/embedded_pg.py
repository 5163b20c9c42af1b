"""The project-local PostgreSQL + PostGIS cluster (``gridgov db start``).

The cluster lives under ``.gridgov/pg``: data in ``data/``, the unix socket in the
directory itself, TCP on 127.0.0.1 at a fixed port. PostgreSQL refuses to run as
root, so as root the cluster is owned by and started as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

import psycopg

from api.settings import Settings, libpq_url

POSTGIS_PACKAGE = "postgresql-15-postgis-3"
APT_COMMAND = f"apt-get update && apt-get install -y {POSTGIS_PACKAGE}"


class ClusterError(RuntimeError):
    """Raised with a message a person can act on."""


# After a crash of the postmaster, how long `start` waits for its leftovers, and the
# server's refusals (in its log) that mean "a leftover is still there: try again".
LEFTOVER_WAIT_S = 60.0
START_ATTEMPTS = 5
TRANSIENT_START_ERRORS = (
    "pre-existing shared memory block",  # orphaned backends still attached
    "lock file",  # postmaster.pid or the socket's lock names a pid that still exists
)


def pg_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    candidates = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise ClusterError(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin). "
        f"Install them with: {APT_COMMAND}"
    )


def postgis_available(bindir: Path) -> bool:
    version = bindir.parent.name  # /usr/lib/postgresql/15/bin -> 15
    share = Path("/usr/share/postgresql") / version / "extension"
    return any(share.glob("postgis.control"))


def _apt_install(say) -> None:
    if os.geteuid() != 0:
        raise ClusterError(f"PostgreSQL 15 with PostGIS is not installed. Run as root:\n  {APT_COMMAND}")
    say(f"installing {POSTGIS_PACKAGE} from apt ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", POSTGIS_PACKAGE], check=True, env=env)


def ensure_postgis(say=print) -> Path:
    """PostgreSQL server binaries with PostGIS: installed from apt when missing (as root),
    else the exact command is printed. Returns the binaries' directory."""
    try:
        bindir = pg_bindir()
    except ClusterError:
        _apt_install(say)
        bindir = pg_bindir()
    if not postgis_available(bindir):
        _apt_install(say)
        if not postgis_available(bindir):
            raise ClusterError(f"{POSTGIS_PACKAGE} installed but postgis.control not found")
    return bindir


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _owner_ids() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ClusterError("running as root needs the 'postgres' system user (apt-get install postgresql-15)") from exc
    return pw.pw_uid, pw.pw_gid


def _check_traversable(path: Path) -> None:
    """As root the server runs as ``postgres``, which must reach the data directory."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        if parent.exists() and not (parent.stat().st_mode & 0o001):
            if parent.stat().st_uid != pwd.getpwnam("postgres").pw_uid:
                raise ClusterError(
                    f"the postgres user cannot enter {parent} (mode {oct(parent.stat().st_mode & 0o777)}); "
                    "clone the project somewhere world-traversable (e.g. /srv or /tmp) or set DATABASE_URL"
                )


def _lock_file(data: Path) -> tuple[int | None, int | None]:
    """The postmaster pid and shared memory id recorded in ``postmaster.pid`` (None if absent)."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None, None
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    shm = lines[6].split() if len(lines) > 6 else []
    return pid, int(shm[1]) if len(shm) == 2 and shm[1].isdigit() else None


def _process_state(pid: int) -> str | None:
    """The state letter of a process (``R``, ``S``, ``Z`` for a zombie ...), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _shm_attached(shmid: int | None) -> int:
    """How many processes attach a System V shared memory segment (0 when gone or unknown)."""
    if shmid is None:
        return 0
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    for row in rows:  # key shmid perms size cpid lpid nattch ...
        fields = row.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6])
    return 0


class EmbeddedCluster:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.pg_dir
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = settings.pg_port

    def is_initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def is_running(self, bindir: Path | None = None) -> bool:
        if not self.is_initialised():
            return False
        bindir = bindir or pg_bindir()
        res = subprocess.run(
            [str(bindir / "pg_isready"), "-h", str(self.root), "-p", str(self.port), "-q"],
            capture_output=True,
        )
        return res.returncode == 0

    def init(self, bindir: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _check_traversable(self.root)
        ids = _owner_ids()
        if ids:
            os.chown(self.root, *ids)
        subprocess.run(
            _as_owner([
                str(bindir / "initdb"), "-D", str(self.data), "-U", self.settings.pg_user,
                "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ]),
            check=True, capture_output=True,
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# gridgov embedded cluster\n"
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 200\nshared_buffers = 256MB\nfsync = on\n"
            )

    def start(self, say=print) -> None:
        """Start the cluster (initdb on first use) and create the database with PostGIS.

        Right after the postmaster was killed (``kill -9``, OOM killer), its leftovers
        keep PostgreSQL from starting for a moment: this waits for them (at most
        ``LEFTOVER_WAIT_S``) and retries ``pg_ctl start`` on those transient refusals.

        Raises
        ------
        ClusterError
            With the reason and the end of the server log when the server does not start.
        """
        bindir = ensure_postgis(say)
        if not self.is_initialised():
            say(f"initdb {self.data}")
            self.init(bindir)
        if not self.is_running(bindir):
            say(f"starting PostgreSQL on 127.0.0.1:{self.port} (socket in {self.root})")
            self._pg_ctl_start(bindir, say)
        self.ensure_database()

    def _pg_ctl_start(self, bindir: Path, say) -> None:
        """``pg_ctl start``, retried while a dead server's leftovers make it refuse."""
        for attempt in range(1, START_ATTEMPTS + 1):
            self._wait_for_leftovers(say)
            offset = self.log.stat().st_size if self.log.exists() else 0
            res = subprocess.run(
                _as_owner([str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                           "-w", "-t", "60", "start"]),
                capture_output=True, text=True,
            )
            if res.returncode == 0:
                return
            log = self._log_since(offset)
            transient = next((m for m in TRANSIENT_START_ERRORS if m in log), None)
            if transient is None or attempt == START_ATTEMPTS:
                raise ClusterError(f"pg_ctl start failed: {res.stderr.strip()}\n{log[-2000:]}")
            say(f"PostgreSQL refused to start ({transient!r} in its log); retrying ({attempt}/{START_ATTEMPTS - 1})")
            time.sleep(1)
            if self.is_running(bindir):  # another `gridgov db start` won the race
                return

    def _log_since(self, offset: int) -> str:
        """The server log written since byte ``offset`` (all of it if it was rewritten)."""
        if not self.log.exists():
            return ""
        data = self.log.read_bytes()
        return data[offset if len(data) >= offset else 0:].decode(errors="replace")

    def _wait_for_leftovers(self, say, timeout: float = LEFTOVER_WAIT_S) -> None:
        """Wait until a dead postmaster's leftovers no longer hold the data directory.

        PostgreSQL refuses to start while the pid in ``postmaster.pid`` still exists (a
        killed postmaster stays a zombie until init reaps it) or while the shared memory
        segment named there is still attached (its orphaned backends exit when they next
        wait for their client, i.e. once the statement they run is over). Both clear by
        themselves. A live postmaster is left to ``pg_ctl``.

        Raises
        ------
        ClusterError
            When they are still there after ``timeout`` seconds.
        """
        pid, shmid = _lock_file(self.data)
        if pid is None or _process_state(pid) not in (None, "Z", "X"):
            return
        deadline = time.monotonic() + timeout
        said = False
        while True:
            unreaped = _process_state(pid) is not None
            attached = _shm_attached(shmid)
            if not unreaped and not attached:
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"the previous PostgreSQL server (pid {pid}) died, but after {timeout:.0f} s "
                    + (f"{attached} of its processes still hold its shared memory (segment {shmid}); "
                       f"stop them (ps -u postgres -o pid,args), then run `gridgov db start` again"
                       if attached else "its process is still not reaped by init")
                )
            if not said:
                say(f"the previous PostgreSQL server (pid {pid}) died; waiting for its processes to exit ...")
                said = True
            time.sleep(0.1)

    def stop(self) -> None:
        if self.is_running():
            subprocess.run(
                _as_owner([str(pg_bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                check=True, capture_output=True,
            )

    def admin_dsn(self) -> str:
        return f"host={self.root} port={self.port} user={self.settings.pg_user} dbname=postgres"

    def ensure_database(self) -> None:
        name = self.settings.pg_database
        for _ in range(30):
            try:
                conn = psycopg.connect(self.admin_dsn(), autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.5)
        else:
            raise ClusterError("cluster started but does not accept connections")
        with conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        ensure_extensions(libpq_url(self.settings.url))


def ensure_extensions(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def status(settings: Settings) -> tuple[str, bool]:
    """One line on the database, and whether it answers."""
    if not settings.embedded:
        try:
            with psycopg.connect(libpq_url(settings.url), connect_timeout=5) as conn:
                v = conn.execute("SELECT postgis_full_version()").fetchone()[0]
            return f"external database reachable: {v.split(' ')[1]}", True
        except psycopg.Error as exc:
            return f"external database NOT reachable: {str(exc).strip().splitlines()[0]}", False
    cluster = EmbeddedCluster(settings)
    if not cluster.is_initialised():
        return f"embedded cluster not initialised ({cluster.data}): run `gridgov db start`", False
    running = cluster.is_running()
    state = "running" if running else "stopped (`gridgov db start`)"
    return f"embedded cluster {state}: 127.0.0.1:{cluster.port}, socket {cluster.root}", running
