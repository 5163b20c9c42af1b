"""Open-loop load in its own process: ``python -m bench.load URL RATE SECONDS CONNECTIONS < bodies.json``.

Request ``i`` is due at ``start + i / RATE`` whether or not earlier ones have answered (an
open loop: a slow server gets a queue, not a politely waiting client), over at most
``CONNECTIONS`` keep-alive connections. Latency counts from the moment a request was due,
so time spent queued behind a slow server is not hidden. Prints one JSON line: the status
counts, the ids of every 201, the latencies, how many requests went out late (> 100 ms after
they were due) and any transport errors.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx

LATE_S = 0.1


async def load(url: str, rate: float, seconds: float, connections: int, bodies: list[dict]) -> dict:
    n = int(rate * seconds)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    statuses: Counter = Counter()
    ids: list[int] = []
    times: list[float] = []
    errors: list[str] = []
    late = 0
    slots = asyncio.Semaphore(connections)

    async with httpx.AsyncClient(base_url=url, limits=limits, trust_env=False, timeout=30) as client:
        async def one(i: int, due: float) -> None:
            nonlocal late
            async with slots:
                if time.perf_counter() - due > LATE_S:
                    late += 1
                try:
                    res = await client.post("/api/incidents", json=bodies[i % len(bodies)])
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                    return
            times.append(time.perf_counter() - due)
            statuses[res.status_code] += 1
            if res.status_code == 201:
                ids.append(res.json()["id"])

        start = time.perf_counter()
        tasks = []
        for i in range(n):
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - start
    return {"sent": n, "wall": wall, "statuses": {str(k): v for k, v in statuses.items()}, "ids": ids,
            "times": times, "late": late, "errors": errors}


def main() -> int:
    url, rate, seconds, connections = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(load(url, rate, seconds, connections, json.load(sys.stdin)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
