"""Plain-text output: tables, statistics, and a tee to ``bench/results/latest.txt``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"


class Report:
    """Print lines as they come and keep them for the results file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def out(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.extend(text.split("\n"))

    def section(self, title: str) -> None:
        self.out()
        self.out(title)
        self.out("=" * len(title))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.out(table(headers, rows))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def _is_number(text: str) -> bool:
    t = text.replace(",", "").replace("x", "").replace("%", "").strip()
    try:
        float(t)
        return True
    except ValueError:
        return False


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width table; numeric cells right-aligned, text left-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(r[i]) or r[i] in ("", "-") for r in cells[1:]) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if numeric[i] and n else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def latency_stats(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds."""
    ms = np.asarray(seconds, dtype="float64") * 1000.0
    return {
        "n": int(ms.size),
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "max": float(ms.max()),
    }


def ms(value: float) -> str:
    return f"{value:.2f}"


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def spread(values: Sequence[float]) -> str:
    """The range of repeated figures (each round's p50, in ms): ``min-max``."""
    return f"{min(values):.1f}-{max(values):.1f}"


def rate(value: float) -> str:
    return f"{value:,.0f}"


def standalone(prog: str, description: str | None, run, default_out: Path) -> int:
    """``python -m bench.<section>``: run one section alone (``run(report, db, rounds)``) on a clone
    of the sample database, with the machine's load before and after, saved to ``--out``."""
    import argparse
    import os
    import time

    from api.settings import Settings
    from bench.dbenv import bench_database

    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--out", default=str(default_out))
    args = p.parse_args()
    report = Report()
    load = os.getloadavg()
    report.out(f"{prog.removeprefix('python -m ')}  {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; "
               f"{os.cpu_count()} cores; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    with bench_database(Settings(), public_rate_per_minute=10**9) as db:
        report.out(f"  {db.mode}")
        run(report, db, args.rounds)
    load = os.getloadavg()
    report.out(f"  load average at end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    report.save(Path(args.out))
    return 0
