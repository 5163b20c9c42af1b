"""``GET /metrics``: Prometheus's text format, for the operator's monitoring (api.metrics).

Who may read it: the capability ``read_metrics`` (api/auth/policy.py), held by admin and by the
``operator`` role alone. The metrics name no incident, person or place (route templates, never
paths), but they do show how busy the desks are and when, so they are not public; and a scraper
is not a person, so no staff role holds the capability and the operator role holds nothing
else: the long-lived token a Prometheus server keeps on disk (``gridgov user token``) can read
the metrics and do nothing more. ``/healthz`` and ``/readyz`` stay open for the proxy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from api.auth.deps import MetricsReader
from api.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {CONTENT_TYPE: {}},
                             "description": "Prometheus text exposition format (version 0.0.4)"}})
async def metrics(request: Request, who: MetricsReader) -> Response:
    """This worker's metrics: requests and latencies by route template and status, the connection
    pool, the deadline scheduler's last round, live stream clients, the process."""
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
