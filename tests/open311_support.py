"""Open311 client apps for tests: keys issued by the service `gridgov apikey add` calls."""

from __future__ import annotations


def issue_open311_key(app_settings, name: str) -> str:
    """A client app's API key, issued as ``gridgov apikey add`` issues it (the service the command
    calls, in process; only its keyed digest under ``app_settings.hash_key`` is stored)."""
    from api.open311 import clients
    from tests import pg_support as pg

    return pg.in_transaction(app_settings, lambda conn: clients.add(conn, app_settings.hash_key, name, actor="test"))
