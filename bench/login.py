"""Failed logins: an unknown username against a known one with a wrong password (issue 12's
probe: ~5 ms against ~130 ms told which usernames exist). Both should cost one argon2 check;
the ratio is the measure, the test suite only checks that both check a hash of the same cost."""

from __future__ import annotations

import secrets
import statistics
import time

import httpx

from bench.report import Report, ms

ATTEMPTS = 4  # under the login throttle's lock (a locked username answers 429 at once)


def _median_ms(client: httpx.Client, username: str) -> float:
    times = []
    for i in range(ATTEMPTS):
        started = time.perf_counter()
        res = client.post("/api/auth/token", data={"username": username, "password": f"wrong-password-{i}"})
        times.append((time.perf_counter() - started) * 1000)
        assert res.status_code == 401, res.text
    return statistics.median(times)


def run(report: Report, client: httpx.Client, known_username: str) -> None:
    unknown = _median_ms(client, f"ghost-{secrets.token_hex(4)}")
    known = _median_ms(client, known_username)
    report.table(["POST /api/auth/token, wrong password", "p50 ms"],
                 [["unknown username", ms(unknown)], ["known username (baseline)", ms(known)],
                  ["ratio unknown / known", f"{unknown / known:.2f}x (1.00x: the answer's time tells nothing)"]])
