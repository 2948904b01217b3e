"""Event history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from oneteam.api.auth import grant_of, hub_of, seen_device, sees_event
from oneteam.api.schemas import ROW_ID_MAX, error_responses, event_json
from oneteam.hub import EventQuery
from oneteam.model import Event, EventKind

router = APIRouter(prefix="/api/events", tags=["events"])

MAX_PAGES = 20
"""Stored pages read for one answer to a member who is shown only some devices (the others'
events are skipped): a page that comes back short then simply says less, never scans forever."""


@router.get("", responses=error_responses(404))
async def list_events(
    request: Request,
    device: Annotated[str | None, Query(max_length=128)] = None,
    kind: Annotated[list[EventKind] | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Stored events this caller is shown, newest first; page back with `before` (an event id)."""
    hub = hub_of(request)
    grant = grant_of(request)
    if device is not None:
        seen_device(hub, grant, device)
    shown: list[Event] = []
    for _ in range(MAX_PAGES):
        page = await hub.events(
            EventQuery(device_id=device, kinds=tuple(kind or ()), before_id=before, limit=limit)
        )
        shown += [e for e in page if sees_event(hub, grant, e)]
        if len(page) < limit or len(shown) >= limit:
            break
        before = page[-1].id
    return {"events": [event_json(e) for e in shown[:limit]]}
