"""The cluster as Patroni sees it: its REST API's ``/cluster`` (any node answers for all)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from api.cluster.layout import Layout

TIMEOUT_S = 2.0


def cluster_view(layout: Layout) -> dict | None:
    """``{"members": [{"name", "role", "state", "host", "port", "lag", "timeline"...}]}`` from the first
    node whose REST API answers; None when none does."""
    for node in layout.nodes:
        try:
            with urllib.request.urlopen(f"{node.rest}/cluster", timeout=TIMEOUT_S) as res:
                return json.loads(res.read())
        except (OSError, urllib.error.URLError, ValueError):
            continue
    return None


def rows(layout: Layout) -> list[dict]:
    """One row per node: name, port, role (leader, sync_standby, replica, or stopped), state, lag in bytes."""
    view = cluster_view(layout) or {}
    seen = {m["name"]: m for m in view.get("members", [])}
    out = []
    for node in layout.nodes:
        m = seen.get(node.name)
        out.append({"name": node.name, "port": node.pg_port, "rest_port": node.rest_port,
                    "role": m.get("role", "unknown") if m else "stopped",
                    "state": m.get("state", "unknown") if m else "stopped",
                    "lag": m.get("lag") if m else None, "timeline": m.get("timeline") if m else None,
                    "nosync": bool((m or {}).get("tags", {}).get("nosync"))})
    return out


def leader(layout: Layout) -> dict | None:
    return next((r for r in rows(layout) if r["role"] in ("leader", "master") and r["state"] == "running"), None)


def sync_streaming(layout: Layout) -> dict | None:
    return next((r for r in rows(layout) if r["role"] == "sync_standby" and r["state"] in ("running", "streaming")),
                None)
