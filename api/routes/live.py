"""The live stream (Server-Sent Events) of the changes a caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.auth.access import oauth2
from api.auth.deps import IncidentReader
from api.db import pool_of
from api.live import stream

router = APIRouter(prefix="/api", tags=["live"])


@router.get("/live", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "Server-Sent Events; see the message list above"}})
async def live(request: Request, who: IncidentReader, token: Annotated[str | None, Depends(oauth2)] = None,
               last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**63 - 1,
                                                           description="resume after this event")] = None,
               once: Annotated[bool, Query(description="send what was missed, then end (for clients "
                                                       "that poll instead of holding a stream)")] = False):
    """New reports, state changes, deadline flags and unit moves as they commit, only those in the
    caller's reach (another street's cases are never sent, not even their ids). Send
    ``Last-Event-ID`` when reconnecting to get what was missed.

    Messages: ``hello``; ``incident`` (id = case-file event id: event_id, incident_id, kind,
    status, category, and with detail rights at, to_status, priority, due_at, lon, lat,
    grid_code); ``unit`` (code, name, department, status, station_code, lon, lat,
    position_at); ``units_reload``; ``resync`` (reconnect with Last-Event-ID or reload);
    ``end`` (the session ended: refresh the token, reconnect). With ``once=true`` the answer
    ends after the catch-up: poll with the last id instead of holding a stream."""
    app = request.app
    frames = stream.events(app.state.live, pool_of(app), app.state.settings, who,
                           token, last_event_id, once=once)
    return StreamingResponse(frames, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
