"""Sample accounts for the Nanxun demo: random passwords, written once to a 0600 file.

No fixed default password exists anywhere: each account gets a fresh random password
the first time the sample is loaded, and only the credentials file knows it.
"""

from __future__ import annotations

import os
from pathlib import Path

from psycopg import AsyncConnection

from api.auth import passwords, users
from api.sqlfiles import sql

CREDENTIALS_FILE = "sample-credentials.txt"


async def sample_accounts(conn: AsyncConnection) -> tuple[list[tuple[str, str, str, str | None]], set[str]]:
    """(username, role, area_code, unit_code) for every sample account, and the usernames taken."""
    row = await sql.fetchone(conn, "sample_account_areas")
    district = row["district"]
    accounts = [("admin", "admin", district, None)]
    accounts += [(f"dispatcher-{code}", "dispatcher", code, None) for code in row["streets"]]
    accounts += [
        ("dispatcher-district", "dispatcher", district, None),
        ("gridmanager", "grid_manager", district, None),
        ("gridworker", "grid_worker", row["busiest_grid"], None),
        ("officer", "officer", district, row["police_unit"]),
        ("analyst", "analyst", district, None),
    ]
    return accounts, set(row["usernames"])


async def create_sample_accounts(conn: AsyncConnection, data_dir: Path) -> tuple[int, Path]:
    """Create missing sample accounts; append their passwords to the credentials file (mode 600)."""
    path = data_dir / CREDENTIALS_FILE
    accounts, existing = await sample_accounts(conn)
    lines = []
    for username, role, area, unit in accounts:
        if username in existing:
            continue
        password = passwords.random_password()
        await users.create_user(conn, username, password, unit_code=unit, actor="load-sample",
                                display_name=f"sample {role}")
        await users.grant(conn, username, role, area, actor="load-sample")
        lines.append(f"{username}\t{password}\t{role}@{area}" + (f"\tunit {unit}" if unit else ""))
    if lines:
        record_passwords(path, lines)
    return len(lines), path


HEADER = "# gridgov sample accounts (random passwords, shown nowhere else)\n# username\tpassword\trole@area\n"


def record_passwords(path: Path, lines: list[str], header: str = HEADER) -> None:
    """Write new accounts' lines to the credentials file (mode 600), replacing any earlier line
    of the same username (an account made anew after the database was reset has a new password).
    ``header``: the file's comment lines (the roster import keeps its own file)."""
    renewed = {line.split("\t", 1)[0] for line in lines}
    kept = []
    if path.exists():
        kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                if line and not line.startswith("#") and line.split("\t", 1)[0] not in renewed]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(header + "\n".join(kept + lines) + "\n")
    os.chmod(path, 0o600)
