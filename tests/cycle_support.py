"""Bringing a fresh case to any state through the API, for tests that call every action route."""

from __future__ import annotations

import io


def two_street_spots(engine) -> list[dict]:
    """A point inside a grid of each of two streets: {street, lon, lat} (scope tests)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT DISTINCT ON (c.parent_code) c.parent_code AS street,
                   ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
            FROM area g JOIN area c ON c.code = g.parent_code AND c.valid_to IS NULL
            WHERE g.kind = 'grid' AND g.valid_to IS NULL ORDER BY c.parent_code, g.code LIMIT 2""")).mappings().all()
    return [dict(r) for r in rows]


def police_units(engine, n: int = 2) -> list[str]:
    """The first ``n`` police units by code (for ``CaseMaker``'s unit and second unit)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        query = sa.text("SELECT code FROM unit WHERE department_code = 'police' ORDER BY code LIMIT :n")
        return list(conn.execute(query, {"n": n}).scalars())


def png_bytes(size: tuple[int, int] = (8, 6)) -> bytes:
    """A small valid PNG (a photo to upload)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(out, format="PNG")
    return out.getvalue()

# Each action: the state a fresh case is brought to first, and the body it sends
# ("<unit>", "<second unit>" and "<other>" are filled in by the caller).
ACTION_SETUP: dict[str, tuple[str, dict]] = {
    "triage": ("received", {}),
    "void": ("received", {"reason": "r"}),
    "not_responsible": ("received", {"reason": "r"}),
    "merge": ("received", {"duplicate_of": "<other>"}),
    "unmerge": ("duplicate", {"reason": "r"}),
    "escalate": ("received", {"reason": "r"}),
    "hand_down": ("received", {"reason": "r"}),   # dispute and noise start at the community tier
    "answer": ("called", {}),
    "dispatch": ("triaged", {"units": ["<unit>"], "allow_busy": True}),
    "reinforce": ("dispatched", {"units": ["<second unit>"], "allow_busy": True}),
    "reassign": ("dispatched", {"units": ["<second unit>"], "allow_busy": True, "reason": "r"}),
    "resolve": ("triaged", {"note": "n"}),
    "accept": ("dispatched", {}),
    "arrive": ("accepted", {}),
    "handle": ("accepted", {"note": "n"}),
    "return": ("dispatched", {"reason": "r"}),
    "verify": ("handled", {"note": "n"}),
    "reject": ("handled", {"reason": "r"}),
    "close": ("verified", {}),
    "reopen": ("closed", {"reason": "r"}),
    "suspend": ("triaged", {"reason": "r"}),
    "resume": ("suspended", {}),
    "supervise": ("received", {"note": "n"}),
    "extend": ("received", {"reason": "r", "deadline": "2099-01-01T17:00:00+08:00"}),
}


class CaseMaker:
    """Files reports at a point and walks them through the cycle as an admin."""

    def __init__(self, client, admin_headers: dict, *, lon: float, lat: float, unit: str, second_unit: str,
                 category: str = "dispute"):
        self.client, self.admin = client, admin_headers
        self.lon, self.lat, self.unit, self.second_unit, self.category = lon, lat, unit, second_unit, category

    def report(self) -> dict:
        res = self.client.post("/api/incidents", json={"category": self.category, "lon": self.lon, "lat": self.lat})
        assert res.status_code == 201, res.text
        return res.json()

    def act(self, incident_id: int, action: str, **body) -> None:
        res = self.client.post(f"/api/incidents/{incident_id}/actions/{action}", json=body, headers=self.admin)
        assert res.status_code == 200, f"setting up {action}: {res.text}"

    def bring(self, incident_id: int, state: str) -> None:
        """Take a fresh case to ``state`` through the API."""
        unit = {"units": [self.unit], "allow_busy": True}
        handled = [("triage", {}), ("dispatch", unit), ("accept", {}), ("handle", {"note": "n"})]
        paths = {
            "received": [], "triaged": [("triage", {})], "suspended": [("triage", {}), ("suspend", {"reason": "r"})],
            "dispatched": handled[:2], "accepted": handled[:3], "handled": handled,
            "verified": handled + [("verify", {"note": "n"})],
            "closed": handled + [("verify", {"note": "n"}), ("close", {})],
            "called": [("escalate", {"reason": "r"}), ("escalate", {"reason": "r"}),
                       ("escalate", {"reason": "r", "department": "planning"})],
        }
        if state == "duplicate":
            self.act(incident_id, "merge", duplicate_of=self.report()["id"])
            return
        for action, body in paths[state]:
            self.act(incident_id, action, **body)

    def close_at_desk(self, incident_id: int) -> None:
        """Close a fresh case the shortest way through the API (no unit): the desk resolves it,
        verifies and closes it (``bring(..., "closed")`` goes through a unit's hands instead)."""
        for action, body in (("triage", {}), ("resolve", {"note": "n"}), ("verify", {"note": "n"}), ("close", {})):
            self.act(incident_id, action, **body)

    def case_for(self, action: str) -> tuple[int, dict]:
        """A fresh case in the state ``action`` starts from, and the action's body."""
        state, body = ACTION_SETUP[action]
        cid = self.report()["id"]
        self.bring(cid, state)
        fill = {"<unit>": self.unit, "<second unit>": self.second_unit}
        body = {k: ([fill.get(u, u) for u in v] if isinstance(v, list) else v) for k, v in body.items()}
        if body.get("duplicate_of") == "<other>":
            body["duplicate_of"] = self.report()["id"]
        return cid, body
