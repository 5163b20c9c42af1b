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

import orjson

from bench.http1 import AsyncConnection, HttpError

LATE_S = 0.1
TIMEOUT_S = 30


async def load(url: str, rate: float, seconds: float, connections: int, bodies: list[dict]) -> dict:
    n = int(rate * seconds)
    statuses: Counter = Counter()
    ids: list[int] = []
    times: list[float] = []
    errors: list[str] = []
    late = 0
    payloads = [orjson.dumps(b) for b in bodies]
    idle = asyncio.Queue()   # keep-alive connections not in use (bench.http1: a lean client)
    for _ in range(connections):
        idle.put_nowait(AsyncConnection(url))

    async def one(i: int, due: float) -> None:
        nonlocal late
        conn = await idle.get()
        try:
            if time.perf_counter() - due > LATE_S:
                late += 1
            try:
                status, content = await asyncio.wait_for(conn.post_json("/api/incidents", payloads[i % len(payloads)]),
                                                         TIMEOUT_S)
            except (HttpError, TimeoutError) as exc:
                await conn.close()
                errors.append(type(exc).__name__)
                return
        finally:
            idle.put_nowait(conn)
        times.append(time.perf_counter() - due)
        statuses[status] += 1
        if status == 201:
            ids.append(orjson.loads(content)["id"])

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
    while not idle.empty():
        await idle.get_nowait().close()
    return {"sent": n, "wall": wall, "statuses": {str(k): v for k, v in statuses.items()}, "ids": ids,
            "times": times, "late": late, "errors": errors}


def main() -> int:
    url, rate, seconds, connections = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(load(url, rate, seconds, connections, json.load(sys.stdin)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
