"""Section 4: the plan of ``route_point.sql`` (EXPLAIN ANALYZE): indexes used, seq scans, hot nodes."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from bench.common import psycopg_sql
from spatial.sqlfiles import BIND, raw_sql


def _walk(node: dict, out: list[dict]) -> float:
    """Flatten the plan; exclusive time = own total x loops minus the children's."""
    total = node.get("Actual Total Time", 0.0) * node.get("Actual Loops", 1)
    children = 0.0
    for child in node.get("Plans", []):
        children += _walk(child, out)
    out.append({
        "type": node["Node Type"], "relation": node.get("Relation Name"), "index": node.get("Index Name"),
        "parent": node.get("Parent Relationship"), "subplan": node.get("Subplan Name"),
        "rows": node.get("Actual Rows", 0), "loops": node.get("Actual Loops", 1),
        "filtered": node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0),
        "exclusive_ms": max(0.0, total - children),
    })
    return total


def explain(dsn: str, query: str, params: dict, *, repeat: int = 3) -> tuple[dict, str]:
    """The JSON plan of the last of ``repeat`` runs (warm caches) and its text form."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(repeat):
            doc = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, params).fetchone()[0]
        text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params).fetchall())
    doc = doc[0] if isinstance(doc, list) else json.loads(doc)[0]
    return doc, text


def summarise(doc: dict) -> dict:
    nodes: list[dict] = []
    _walk(doc["Plan"], nodes)
    seq = [n for n in nodes if n["type"] == "Seq Scan"]
    indexes = sorted({f"{n['relation']}.{n['index']}" for n in nodes if n["index"]})
    hot = sorted(nodes, key=lambda n: -n["exclusive_ms"])[:6]
    return {"planning_ms": doc.get("Planning Time", 0.0), "execution_ms": doc.get("Execution Time", 0.0),
            "seq_scans": seq, "indexes": indexes, "hot": hot}


def explain_generic(dsn: str, name: str, params: dict, *, repeat: int = 3) -> tuple[dict, str]:
    """The generic plan (what prepared statements run from the 6th call on), via PREPARE/EXECUTE."""
    order: list[str] = []

    def number(m):
        if m.group(1) not in order:
            order.append(m.group(1))
        return f"${order.index(m.group(1)) + 1}"

    statement = BIND.sub(number, raw_sql(name))
    args = pgsql.SQL(", ").join(pgsql.Literal(params[n]) for n in order)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("PREPARE bench_stmt AS " + statement)   # no parameters: sent as is
        for _ in range(repeat):
            doc = conn.execute(pgsql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE bench_stmt({})")
                               .format(args)).fetchone()[0]
        text = "\n".join(r[0] for r in conn.execute(
            pgsql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_stmt({})").format(args)).fetchall())
    doc = doc[0] if isinstance(doc, list) else json.loads(doc)[0]
    return doc, text


def run(report, dsn: str, params: dict, plan_path: Path) -> dict:
    query, _ = psycopg_sql("route_point")
    custom_doc, custom_text = explain(dsn, query, params)
    generic_doc, generic_text = explain_generic(dsn, "route_point", params)
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    plan_path.write_text(f"-- route_point.sql, params {params}\n\n-- custom plan (first 5 calls of a connection)\n"
                         f"{custom_text}\n\n-- generic plan (prepared statement, 6th call on)\n{generic_text}\n",
                         encoding="utf-8")
    custom, s = summarise(custom_doc), summarise(generic_doc)
    report.out(f"  route_point at ({params['lon']:.5f}, {params['lat']:.5f}), warm caches "
               f"(full plans: {plan_path.name})")
    report.table(["plan", "planning ms", "execution ms"], [
        ["custom (unprepared; first 5 calls per connection)", f"{custom['planning_ms']:.2f}",
         f"{custom['execution_ms']:.2f}"],
        ["generic (prepared statement, psycopg from the 6th call)", f"{s['planning_ms']:.2f}",
         f"{s['execution_ms']:.2f}"],
    ])
    report.out("  indexes used (generic plan): " + (", ".join(s["indexes"]) or "none"))
    if set(custom["indexes"]) != set(s["indexes"]):
        report.out("  indexes used (custom plan):  " + (", ".join(custom["indexes"]) or "none"))
    if s["seq_scans"]:
        for n in s["seq_scans"]:
            report.out(f"  seq scan on {n['relation']}: {n['loops']} loop(s), {n['rows']} row(s) kept, "
                       f"{n['filtered']} removed by filter, {n['exclusive_ms']:.3f} ms")
    else:
        report.out("  seq scans: none")
    report.table(["hottest nodes (generic plan)", "relation / index", "loops", "rows", "removed", "self ms"], [
        [n["type"] + (f" ({n['subplan']})" if n["subplan"] else ""),
         " / ".join(x for x in (n["relation"], n["index"]) if x) or "-",
         n["loops"], n["rows"], n["filtered"], f"{n['exclusive_ms']:.3f}"] for n in s["hot"]])
    return {"custom": custom, "generic": s}
