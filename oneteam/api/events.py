"""Event history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from oneteam.api.auth import hub_of
from oneteam.api.schemas import ROW_ID_MAX, error_responses, event_json
from oneteam.hub import EventQuery
from oneteam.model import EventKind

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("", responses=error_responses(404))
async def list_events(
    request: Request,
    device: Annotated[str | None, Query(max_length=128)] = None,
    kind: Annotated[list[EventKind] | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Stored events, newest first; page back with `before` (an event id)."""
    hub = hub_of(request)
    if device is not None:
        hub.device(device)
    events = await hub.events(
        EventQuery(device_id=device, kinds=tuple(kind or ()), before_id=before, limit=limit)
    )
    return {"events": [event_json(e) for e in events]}
