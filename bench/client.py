"""A load client in its own process: ``python -m bench.client URL CLIENTS < bodies.json``.

Posts every body to ``/api/incidents`` over ``CLIENTS`` keep-alive connections (the
first ``CLIENTS`` bodies warm the connections up, untimed) and prints one JSON line:
``wall`` seconds, per-request ``times``, created ``ids`` and the ``errors``. Running apart
from the server keeps the client's Python work off the server process's GIL.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx


async def post_all(url: str, clients: int, bodies: list[dict]) -> dict:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    ids: list[int] = []
    errors: list[str] = []
    times: list[float] = []

    def keep(res: httpx.Response) -> None:
        if res.status_code == 201:
            ids.append(res.json()["id"])
        else:
            errors.append(f"{res.status_code}: {res.text[:200]}")

    async with httpx.AsyncClient(base_url=url, limits=limits, trust_env=False, timeout=60) as client:
        for res in await asyncio.gather(*(client.post("/api/incidents", json=b) for b in bodies[:clients])):
            keep(res)
        queue = iter(bodies[clients:])   # shared: each body is taken once

        async def worker() -> None:
            for body in queue:
                t0 = time.perf_counter()
                res = await client.post("/api/incidents", json=body)
                times.append(time.perf_counter() - t0)
                keep(res)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return {"wall": wall, "times": times, "ids": ids, "errors": errors}


def main() -> int:
    url, clients = sys.argv[1], int(sys.argv[2])
    bodies = json.load(sys.stdin)
    print(json.dumps(asyncio.run(post_all(url, clients, bodies))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
