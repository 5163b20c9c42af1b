"""Start and stop the cluster's daemons (etcd, one Patroni per node) in the background, each with
its pid file and log beside its data. As root they run as the ``postgres`` system user
(PostgreSQL refuses root), like the embedded cluster (``api.embedded_pg``)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from api.embedded_pg import ClusterError, _owner_ids

STOP_WAIT_S = 60.0


def make_dir(path: Path) -> None:
    """A directory the daemons' user owns (mode 700: PostgreSQL and etcd want their data private)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    ids = _owner_ids()
    if ids:
        os.chown(path, *ids)
    path.chmod(0o700)


def write_owned(path: Path, text: str) -> None:
    path.write_text(text)
    ids = _owner_ids()
    if ids:
        os.chown(path, *ids)


def pid_of(pid_file: Path, mark: str) -> int | None:
    """The pid recorded in ``pid_file`` if that process still runs with ``mark`` in its command line."""
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    return pid if mark in cmdline and state not in ("Z", "X") else None


def start(cmd: list[str], pid_file: Path, log: Path, cwd: Path) -> int:
    """``cmd`` in its own session (it outlives this command), its output appended to ``log``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["HOME"] = str(cwd)
    ids = _owner_ids()
    with open(log, "ab") as out:
        if ids:
            os.chown(log, *ids)
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True, user=ids[0] if ids else None,
                                    group=ids[1] if ids else None)
        except OSError as exc:
            raise ClusterError(f"cannot run {cmd[0]}: {exc}") from exc
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def stop(pids: list[int], timeout: float = STOP_WAIT_S) -> list[int]:
    """SIGTERM to each, then wait for all; returns those still running after ``timeout``."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if _alive(p)]
        if left:
            time.sleep(0.2)
    return left


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":  # our own child, exited: reap it
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True
