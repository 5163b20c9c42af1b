"""The directory the workers of one ``gridgov serve --workers N`` share their metrics in
(prometheus-client's multiprocess mode, api.metrics.shared).

``.gridgov/run/metrics-<pid of serve>/``: emptied when serve starts, removed when it exits. It
must be in ``PROMETHEUS_MULTIPROC_DIR`` before a worker imports prometheus-client (which picks
where its values live at import): serve sets it before uvicorn spawns the workers, and they
are fresh processes that inherit it. This module imports no prometheus-client itself.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def path_for(data_dir: Path, pid: int | None = None) -> Path:
    return data_dir / "run" / f"metrics-{pid or os.getpid()}"


@contextmanager
def shared_by_workers(data_dir: Path) -> Iterator[Path]:
    """A fresh, empty directory in ``PROMETHEUS_MULTIPROC_DIR`` while the block runs; removed after."""
    path = path_for(data_dir)
    shutil.rmtree(path, ignore_errors=True)  # a serve of the same pid that was killed
    path.mkdir(parents=True, mode=0o700)
    before = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
        shutil.rmtree(path, ignore_errors=True)
