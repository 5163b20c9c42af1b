"""The app as it runs in production: ``gridgov serve --workers N`` in a child process.

Used by the intake section and the load test; the in-process uvicorn thread
(:func:`bench.common.serve`) shares this process's GIL with the client, this does not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    url: str
    proc: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: the supervisor's children, or itself with one worker."""
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()] or [self.proc.pid]

    def peak_rss_mib(self) -> dict[int, float]:
        """High-water resident memory of each worker (``VmHWM``), MiB."""
        out = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        out[pid] = int(line.split()[1]) / 1024.0
            except OSError:
                continue
        return out


@contextmanager
def serve_process(settings, workers: int) -> Iterator[Served]:
    """``gridgov serve --workers N`` (uvloop, httptools) on a free loopback port, pointed at
    ``settings``' database; its log goes to a temporary file (shown if it fails to start)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=settings.url, GRIDGOV_ENV=settings.env, GRIDGOV_HOME=str(settings.home),
               GRIDGOV_PUBLIC_RATE_PER_MINUTE=str(settings.public_rate_per_minute),
               GRIDGOV_SUPERVISION_INTERVAL_S="0")
    script = Path(sys.executable).with_name("gridgov")
    log = tempfile.TemporaryFile()   # never a pipe: one log line per request would fill it and stall the server
    proc = subprocess.Popen([str(script), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"gridgov serve exited {proc.returncode}: {log.read()[-2000:].decode()}")
            try:
                if httpx.get(f"{served.url}/api/bench-no-such-route", trust_env=False, timeout=2).status_code == 404 \
                        and len(served.worker_pids()) >= workers:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gridgov serve did not answer within 60 s")
            time.sleep(0.2)
        time.sleep(1.0)  # every worker through its start-up
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()
