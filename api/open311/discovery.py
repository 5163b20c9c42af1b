"""The GeoReport v2 discovery document: where the endpoint is, its formats, how to get a key."""

from __future__ import annotations

from api.open311.formats import MEDIA
from api.settings import Settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+08:00"  # the last change of what this endpoint serves


def document(base_url: str, settings: Settings) -> dict:
    root = base_url  # api.public_address.public_base: GRIDGOV_PUBLIC_URL, else where the request came
    return {
        "changeset": CHANGESET,
        "contact": "社会治理综合指挥中心 (the district's command centre): the administrator of this server",
        "key_service": "the server's administrator issues one key per client app (gridgov apikey add NAME)",
        "endpoints": [{
            "specification": SPECIFICATION, "url": f"{root}/open311/v2", "changeset": CHANGESET,
            "type": "production" if settings.env == "production" else "test",
            "formats": [MEDIA["xml"].split(";")[0], MEDIA["json"]],
        }],
    }
