"""Warnings and alerts: the current one per device and problem; a member acknowledges or dismisses it.

There is no table of its own: the event log is the record. The newest WARNING or ALERT event of a
warning id is its current reading; acknowledging or dismissing publishes that reading again with
the new status, so every open page updates the card in place and a restart finds the same board.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from oneteam.api.auth import grant_of, hub_of, sees_event
from oneteam.api.schemas import error_responses
from oneteam.hub import EventQuery, Hub
from oneteam.model import Event, EventKind, NotFound
from oneteam.model.warning import DeviceWarning, WarningStatus

router = APIRouter(prefix="/api/warnings", tags=["warnings"])

_KINDS = (EventKind.WARNING, EventKind.ALERT)
HISTORY = 1000
"""Warning events read back to build the board (weeks of a busy home)."""


class WarningNotFound(NotFound):
    key = "warnings.not_found"

    def __init__(self, warning_id: str) -> None:
        super().__init__(f"no warning {warning_id!r}", id=warning_id)


async def current(hub: Hub) -> dict[str, Event]:
    """The newest event of each warning id that carries the shared shape."""
    newest: dict[str, Event] = {}
    for event in await hub.events(EventQuery(kinds=_KINDS, limit=HISTORY)):  # newest first
        warning_id = event.data.get("warning_id")
        if isinstance(warning_id, str) and warning_id not in newest:
            newest[warning_id] = event
    return newest


def _json(event: Event) -> dict[str, Any]:
    return {**dict(event.data), "event_id": event.id, "kind": event.kind.value, "at": event.at}


@router.get("")
async def list_warnings(request: Request) -> dict[str, Any]:
    """One entry per device and problem (its newest reading), newest first; dismissed ones left out."""
    hub, grant = hub_of(request), grant_of(request)
    board = await current(hub)
    shown = [
        e
        for e in board.values()
        if e.data.get("status") != WarningStatus.DISMISSED and sees_event(hub, grant, e)
    ]
    return {"warnings": [_json(e) for e in shown]}


async def _set_status(request: Request, warning_id: str, status: WarningStatus) -> dict[str, Any]:
    hub = hub_of(request)
    event = (await current(hub)).get(warning_id)
    warning = DeviceWarning.from_data(event.data) if event is not None else None
    if event is None or warning is None or not sees_event(hub, grant_of(request), event):
        raise WarningNotFound(warning_id)
    who = grant_of(request).principal.removeprefix("token:").removeprefix("member:")
    data = {**dict(event.data), **warning.with_status(status, who).as_data()}
    published = hub.publish(
        Event(kind=event.kind, device_id=event.device_id, data=data, source=grant_of(request).source)
    )
    return {"ok": True, "warning": _json(published)}


WarningId = Annotated[str, Path(max_length=300)]


@router.post("/{warning_id}/acknowledge", responses=error_responses(404))
async def acknowledge(warning_id: WarningId, request: Request) -> dict[str, Any]:
    """Someone saw it: it stays on the device's card, marked as seen."""
    return await _set_status(request, warning_id, WarningStatus.ACKNOWLEDGED)


@router.post("/{warning_id}/dismiss", responses=error_responses(404))
async def dismiss(warning_id: WarningId, request: Request) -> dict[str, Any]:
    """Put it away; a new reading of the same problem brings it back."""
    return await _set_status(request, warning_id, WarningStatus.DISMISSED)
