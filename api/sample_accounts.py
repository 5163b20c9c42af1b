"""Sample accounts for the Nanxun demo: random passwords, written once to a 0600 file.

No fixed default password exists anywhere: each account gets a fresh random password
the first time the sample is loaded, and only the credentials file knows it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import passwords, users

CREDENTIALS_FILE = "sample-credentials.txt"


async def _pick(conn: AsyncConnection, query: str) -> str:
    return (await conn.execute(text(query))).scalar_one()


async def sample_accounts(conn: AsyncConnection) -> list[tuple[str, str, str, str | None]]:
    """(username, role, area_code, unit_code) for every sample account."""
    district = await _pick(conn, "SELECT code FROM area WHERE kind = 'district' AND valid_to IS NULL ORDER BY code LIMIT 1")
    streets = (await conn.execute(text(
        "SELECT code FROM area WHERE kind = 'street' AND valid_to IS NULL ORDER BY code"))).scalars().all()
    busiest_grid = await _pick(conn, """
        SELECT grid_code FROM incident WHERE grid_code IS NOT NULL
        GROUP BY grid_code ORDER BY count(*) DESC, grid_code LIMIT 1""")
    police_unit = await _pick(conn, "SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT 1")
    accounts = [("admin", "admin", district, None)]
    accounts += [(f"dispatcher-{code}", "dispatcher", code, None) for code in streets]
    accounts += [
        ("dispatcher-district", "dispatcher", district, None),
        ("gridmanager", "grid_manager", district, None),
        ("gridworker", "grid_worker", busiest_grid, None),
        ("officer", "officer", district, police_unit),
        ("analyst", "analyst", district, None),
    ]
    return accounts


async def create_sample_accounts(conn: AsyncConnection, data_dir: Path) -> tuple[int, Path]:
    """Create missing sample accounts; append their passwords to the credentials file (mode 600)."""
    path = data_dir / CREDENTIALS_FILE
    existing = {r for r in (await conn.execute(text("SELECT username FROM app_user"))).scalars()}
    lines = []
    for username, role, area, unit in await sample_accounts(conn):
        if username in existing:
            continue
        password = passwords.random_password()
        await users.create_user(conn, username, password, unit_code=unit, actor="load-sample",
                                display_name=f"sample {role}")
        await users.grant(conn, username, role, area, actor="load-sample")
        lines.append(f"{username}\t{password}\t{role}@{area}" + (f"\tunit {unit}" if unit else ""))
    if lines:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            if f.tell() == 0:
                f.write("# gridgov sample accounts (random passwords, shown nowhere else)\n"
                        "# username\tpassword\trole@area\n")
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
    return len(lines), path
