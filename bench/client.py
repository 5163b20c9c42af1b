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

import orjson

from bench.http1 import AsyncConnection, HttpError


async def post_all(url: str, clients: int, bodies: list[dict]) -> dict:
    """Over ``clients`` connections of :mod:`bench.http1` (lean: the client's CPU is not the server's)."""
    ids: list[int] = []
    errors: list[str] = []
    times: list[float] = []
    payloads = [orjson.dumps(b) for b in bodies]
    connections = [AsyncConnection(url) for _ in range(clients)]

    async def post(conn: AsyncConnection, body: bytes) -> None:
        try:
            status, content = await conn.post_json("/api/incidents", body)
        except HttpError as exc:
            errors.append(str(exc))
            return
        if status == 201:
            ids.append(orjson.loads(content)["id"])
        else:
            errors.append(f"{status}: {content[:200].decode(errors='replace')}")

    try:
        await asyncio.gather(*(post(c, b) for c, b in zip(connections, payloads[:clients], strict=False)))
        queue = iter(payloads[clients:])   # shared: each body is taken once

        async def worker(conn: AsyncConnection) -> None:
            for body in queue:
                t0 = time.perf_counter()
                await post(conn, body)
                times.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        wall = time.perf_counter() - t0
    finally:
        for conn in connections:
            await conn.close()
    return {"wall": wall, "times": times, "ids": ids, "errors": errors}


def main() -> int:
    url, clients = sys.argv[1], int(sys.argv[2])
    bodies = json.load(sys.stdin)
    print(json.dumps(asyncio.run(post_all(url, clients, bodies))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
