"""Metrics shared by the workers of ``gridgov serve --workers N`` (prometheus-client's
multiprocess mode).

``gridgov serve`` with more than one worker points ``PROMETHEUS_MULTIPROC_DIR`` at a directory of
its own (api.metrics_dir) before uvicorn spawns the workers, so in each worker prometheus-client
keeps every value in a small memory-mapped file there, one per worker and kind, and a scrape
(whichever worker answers) merges every file with ``MultiProcessCollector``:

- requests and latencies (api.metrics.requests) are summed over the workers, the ones that have
  exited included: counters never go back;
- the state of each worker (its pool, its scheduler, its live clients), which a scrape of one
  worker cannot read in the others, is *published*: each worker writes it into gauges and
  counters every :data:`PUBLISH_EVERY_S` seconds, and the worker that answers a scrape once more
  just before. A value of another worker is at most that old. How the workers' values merge:

  ========================================  ===============================================
  pool connections, available, in use,      ``livesum``: the workers now running, together
  waiting, max; live clients                (``_max`` is the budget of all of them:
                                            workers x GRIDGOV_POOL_SIZE)
  pool counters, scheduler rounds           counters: every worker's, dead ones included
  scheduler enabled                         ``livemax``: 1 when a running worker schedules
  live listening                            ``livemin``: 1 only when every worker listens
  last round timestamp                      ``max``: the latest round of any worker
  last round duration, failed               ``mostrecent``: of that same latest round
  worker CPU, memory, start                 ``liveall``: one series per worker, label ``pid``
  ========================================  ===============================================

  prometheus-client's ``process_*`` collector reads only the process it runs in, so in this mode
  it is left out, and ``gridgov_worker_*{pid}`` say the same of each worker.

A worker that stops marks itself dead (``mark_process_dead``: its ``live*`` gauges vanish); one
that was killed is swept by the others at their next publishing (its pid is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, multiprocess, values
from prometheus_client.process_collector import ProcessCollector

from api.metrics.state import POOL_COUNTERS, POOL_GAUGES, pool_stats

PUBLISH_EVERY_S = 5.0
LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db$")
WORKER_PROCESS = {  # ProcessCollector's sample -> ours, a gauge a worker
    "process_cpu_seconds_total": ("gridgov_worker_cpu_seconds", "CPU time this worker has used (user + system)"),
    "process_resident_memory_bytes": ("gridgov_worker_resident_memory_bytes", "This worker's resident memory"),
    "process_start_time_seconds": ("gridgov_worker_start_time_seconds", "When this worker started (Unix time)"),
}


def active() -> bool:
    """True when prometheus-client was imported with ``PROMETHEUS_MULTIPROC_DIR`` set: its values
    live in files (it decides once, at import; so do we)."""
    return values.ValueClass is not values.MutexValue


def directory() -> str:
    return os.environ["PROMETHEUS_MULTIPROC_DIR"]


def registry() -> CollectorRegistry:
    """The registry a scrape reads: every worker's files merged."""
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


class Published:
    """This worker's state written where the other workers' scrapes read it."""

    def __init__(self, app: FastAPI):
        self.app = app
        self.pool = {key: Gauge(name, doc + " (all workers)", multiprocess_mode="livesum", registry=None)
                     for key, (name, doc) in POOL_GAUGES.items()}
        self.in_use = Gauge("gridgov_db_pool_in_use", "Connections lent out now (all workers)",
                            multiprocess_mode="livesum", registry=None)
        self.pool_counters = {key: Counter(name, doc, registry=None) for key, (name, doc) in POOL_COUNTERS.items()}
        self.enabled = Gauge("gridgov_scheduler_enabled", "1 when a worker runs the deadline scheduler "
                             "(GRIDGOV_SUPERVISION_INTERVAL_S > 0)", multiprocess_mode="livemax", registry=None)
        self.rounds = Counter("gridgov_scheduler_rounds", "Scheduler rounds by outcome: done, skipped (another "
                              "worker held the round) or failed", ["outcome"], registry=None)
        self.last_at = Gauge("gridgov_scheduler_last_round_timestamp_seconds",
                             "When the last round finished (Unix time)", multiprocess_mode="max", registry=None)
        self.last_duration = Gauge("gridgov_scheduler_last_round_duration_seconds", "How long the last round took",
                                   multiprocess_mode="mostrecent", registry=None)
        self.last_failed = Gauge("gridgov_scheduler_last_round_failed", "1 when the last round failed",
                                 multiprocess_mode="mostrecent", registry=None)
        self.live_clients = Gauge("gridgov_live_clients", "Live streams (/api/live) open (all workers)",
                                  multiprocess_mode="livesum", registry=None)
        self.listening = Gauge("gridgov_live_listening", "1 when every worker's LISTEN connection is up",
                               multiprocess_mode="livemin", registry=None)
        self.process = ProcessCollector(registry=None)
        self.worker = {sample: Gauge(name, doc, multiprocess_mode="liveall", registry=None)
                       for sample, (name, doc) in WORKER_PROCESS.items()}
        self._counted: dict[tuple[str, str], float] = {}  # what the counters hold already
        self._round_at: float | None = None

    def publish(self) -> None:
        stats = pool_stats(self.app)
        if stats is not None:
            for key, gauge in self.pool.items():
                gauge.set(stats.get(key, 0))
            self.in_use.set(stats.get("pool_size", 0) - stats.get("pool_available", 0))
            for key, counter in self.pool_counters.items():
                self._advance(counter, ("pool", key), stats.get(key, 0))
        rounds = getattr(self.app.state, "scheduler", None)
        if rounds is not None:
            self.enabled.set(int(rounds.enabled))
            for outcome, n in rounds.outcomes.items():
                self._advance(self.rounds.labels(outcome), ("rounds", outcome), n)
            if rounds.finished_at is not None and rounds.finished_at != self._round_at:
                self._round_at = rounds.finished_at  # set once a round: "mostrecent" is the latest round
                self.last_at.set(rounds.finished_at)
                self.last_duration.set(rounds.duration_s or 0.0)
                self.last_failed.set(int(rounds.failed))
        hub = getattr(self.app.state, "live", None)
        if hub is not None:
            self.live_clients.set(len(hub.subscribers))
            self.listening.set(int(hub.connected.is_set()))
        for family in self.process.collect():
            for sample in family.samples:
                if sample.name in self.worker:
                    self.worker[sample.name].set(sample.value)

    def _advance(self, counter, key: tuple[str, str], total: float) -> None:
        """A counter follows a total kept elsewhere (the pool's, the scheduler's) by its increase."""
        done = self._counted.get(key, 0)
        if total > done:
            counter.inc(total - done)
        self._counted[key] = max(total, done)


def dead_workers(path: str) -> Iterator[int]:
    """Pids with live gauges in ``path`` whose process is gone (killed: it could not say so)."""
    for name in {int(m.group(1)) for f in glob.glob(os.path.join(path, "gauge_live*_*.db"))
                 if (m := LIVE_FILE.search(f))}:
        try:
            os.kill(name, 0)
        except ProcessLookupError:
            yield name
        except PermissionError:  # someone else's process: alive
            pass


async def publish_forever(published: Published) -> None:
    while True:
        published.publish()
        for pid in dead_workers(directory()):
            multiprocess.mark_process_dead(pid)
        await asyncio.sleep(PUBLISH_EVERY_S)


def start(app: FastAPI) -> asyncio.Task | None:
    """In a worker of several: publish its state until :func:`stop` (None in one process)."""
    if not active():
        return None
    published = app.state.metrics.published = Published(app)
    return asyncio.create_task(publish_forever(published))


async def stop(task: asyncio.Task | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    multiprocess.mark_process_dead(os.getpid())
