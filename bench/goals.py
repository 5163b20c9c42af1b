"""The table of issue 11: each hot path, its baseline measured in the same run, the goal, met or not."""

from __future__ import annotations

from bench.report import Report, ms

RAW = "(a) raw SQL, psycopg sync"
IN_PROCESS = "(c) GET /api/route, uvicorn thread, lean keep-alive client"  # the labels of section 1


def _served_route(stats: dict) -> tuple[str, dict]:
    """The GET /api/route row as production serves it (``--workers``) when section 1 measured it."""
    for label, s in stats.items():
        if "GET /api/route" in label and "workers" in label:
            return label, s
    return IN_PROCESS, stats[IN_PROCESS]


def _met(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def summary(report: Report, route_stats: dict, bulk: dict, intake: dict, load: dict, clients: int) -> None:
    raw = route_stats[RAW]
    label, ours = _served_route(route_stats)
    rows = [["GET /api/route as a dispatcher, p50", f"{ms(ours['p50'])} ms", f"raw SQL {ms(raw['p50'])} ms",
             f"{ours['p50'] / raw['p50']:.2f}x", "<= 2x raw SQL", _met(ours["p50"] <= 2 * raw["p50"])]]

    floor = intake["floor_rps"]
    rps = intake.get("workers_rps", intake["concurrent_rps"])
    p99 = intake.get("workers", intake["concurrent"])["p99"]
    rows.append([f"POST /api/incidents, {clients} clients", f"{rps:.0f}/s, p99 {ms(p99)} ms",
                 f"raw psycopg {floor:.0f}/s", f"{rps / floor:.0%}", ">= 60% of raw, p99 < 50 ms",
                 _met(rps >= 0.6 * floor and p99 < 50)])

    sizes = bulk.get("sizes") or {}
    if sizes:
        n = max(sizes)
        size = sizes[n]
        ours_s = size.get("engine_s", size["function_s"])
        agree = size.get("agreement")
        ratio = size["gpd_s"] / ours_s
        rows.append([f"bulk routing, {n:,} points", f"{n / ours_s:,.0f} points/s",
                     f"geopandas sjoin {n / size['gpd_s']:,.0f}/s", f"{ratio:.2f}x",
                     ">= 3x sjoin, 100% = ST_Covers",
                     _met(ratio >= 3 and (agree is None or agree == n))
                     + ("" if agree is None else f" ({agree:,}/{n:,} agree)")])

    rows.append(["load test (section 9)", f"{load['statuses'].get('201', 0):,} acknowledged",
                 "every 201 in the database", f"{load['lost']} lost, {load['server_errors']} 5xx",
                 "nothing lost, no 5xx", _met(load["lost"] == 0 and load["server_errors"] == 0)])
    report.table(["path", "ours", "baseline (same run)", "ratio", "goal", "met"], rows)
    report.out(f"  GET /api/route row: {label}")
