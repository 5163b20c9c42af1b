"""One roster file into the database: read, check every row, then write all of it in the
caller's transaction, or nothing; one audit row says what the import changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection

from api import audit
from api.auth.principal import Principal
from api.roster import checks, writing
from api.roster.columns import KINDS, infer_kind, names, required
from api.roster.reading import Table, read_table
from api.sample_accounts import record_passwords
from api.sqlfiles import sql
from spatial.errors import InputError

CREDENTIALS_FILE = "roster-credentials.txt"
RECORD_KEY = {"name": "display_name", "unit": "unit_code"}  # accounts' columns as app_user names them
LOCK_KEY = 0x726F73746572  # "roster": one import at a time, so two cannot add the same code at once
CREDENTIALS_HEADER = ("# gridgov accounts from roster files: random passwords, shown nowhere else; "
                      "give each to its person, then delete the line\n# username\tpassword\trole@area\n")


def kind_of(table: Table, kind: str | None, filename: str) -> str:
    """The kind given (its header checked) or told by the header; ``InputError`` when neither works."""
    if kind is None:
        kind = infer_kind(table.headers)
        if kind is None:
            raise InputError("kind", f"{filename}: the header ({', '.join(table.headers)}) is not one of the "
                                     f"templates'; say --kind ({', '.join(KINDS)})")
    elif kind not in KINDS:
        raise InputError("kind", f"{kind!r}: one of {', '.join(KINDS)}")
    unknown = [h for h in table.headers if h not in names(kind)]
    lacking = sorted(required(kind) - set(table.headers))
    if unknown or lacking:
        said = ([f"unknown column(s) {', '.join(unknown)}"] if unknown else []) + \
               ([f"missing column(s) {', '.join(lacking)}"] if lacking else [])
        raise InputError("header", f"{filename} as {kind}: {'; '.join(said)} (columns: {', '.join(names(kind))})")
    return kind


async def import_file(conn: AsyncConnection, who: Principal, path: Path, *, kind: str | None = None,
                      dry_run: bool = False, data_dir: Path,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Check ``path`` and, unless any row has a problem, write it (a dry run writes in a savepoint it
    rolls back: it says what would change). The report: kind, rows, problems (row, column,
    reason), added / updated / unchanged and, for accounts made now, the credentials file that
    holds their random passwords. ``progress(done, total)`` is told of each row written
    (an account takes a password hash: about 0.2 s)."""
    table = read_table(path)
    kind = kind_of(table, kind, path.name)
    await sql.execute(conn, "advisory_xact_lock_wait", {"key": LOCK_KEY})  # checked and written as one
    checked = await checks.CHECKS[kind](conn, table)
    report: dict[str, Any] = {
        "kind": kind, "file": path.name, "rows": len(table.rows), "dry_run": dry_run, "written": False,
        "problems": [asdict(p) for p in sorted(checked.problems, key=lambda p: (p.row, p.column))],
        "added": [], "updated": {}, "unchanged": [], "credentials": None,
    }
    if not table.rows:
        report["problems"].append({"row": 1, "column": "-", "reason": "no rows below the header"})
    if report["problems"]:
        return report
    absent = frozenset(RECORD_KEY.get(c, c) for c in names(kind) if c not in table.headers)
    async with conn.transaction(force_rollback=dry_run):  # a dry run says what it would change, then forgets it
        if kind == "accounts":
            done = await writing.accounts(conn, checked.records, actor=who.actor, absent=absent, progress=progress)
        else:
            done = await writing.upsert(conn, kind, checked.records, absent=absent, progress=progress)
        report.update(written=not dry_run, added=done.added, updated=done.updated, unchanged=done.unchanged)
        await audit.record(conn, actor=who.actor, action="roster.import", entity="roster", entity_id=kind,
                           after={"file": path.name, "added": done.added, "updated": done.updated,
                                  "unchanged": len(done.unchanged)}, client=who.client or None)
    if done.new_passwords and not dry_run:
        grants = {r["username"]: r["grants"] for r in checked.records}
        credentials = data_dir / CREDENTIALS_FILE
        record_passwords(credentials, [f"{u}\t{p}\t{','.join(f'{r}@{a}' for r, a in grants[u])}"
                                       for u, p in done.new_passwords], header=CREDENTIALS_HEADER)
        report["credentials"] = str(credentials)
    return report
