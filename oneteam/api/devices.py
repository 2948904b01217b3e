"""Devices: list, read, and command them."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from oneteam.api.auth import caller_of, grant_of, hub_of, seen_device, sees
from oneteam.api.errors import language_of
from oneteam.api.schemas import CommandRequest, device_json, error_responses, state_json
from oneteam.hub import EventQuery, Hub
from oneteam.hub.household import NotAllowed
from oneteam.i18n import render
from oneteam.model import Device, EventKind, State

router = APIRouter(prefix="/api/devices", tags=["devices"])


def _device(hub: Hub, device: Device, state: State, language: str) -> dict[str, Any]:
    """A device as `device_json` writes it, with what the household changed: hidden, and for a
    removed home-file device the note saying where it lives."""
    body = device_json(device, state)
    override = hub.device_override(device.id)
    body["hidden"] = override is not None and override.hidden
    body["note"] = render("device_edit.home_file_note", language) if override and override.removed else None
    return body


class DeviceChange(BaseModel):
    """What to change; at least one field. The name's length is checked by the hub (a 422 with
    a message in the reader's language), so any string up to a sanity bound is read here."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=1000)] | None = None
    room: Annotated[str, Field(max_length=200)] | None = None
    hidden: bool | None = None


@router.get("")
async def list_devices(request: Request) -> dict[str, Any]:
    """The devices of the home this caller is shown (a member: those their permissions cover),
    with rooms, capabilities and current state."""
    hub = hub_of(request)
    grant = grant_of(request)
    states = hub.states()
    shown = [d for d in hub.devices() if sees(grant, d)]
    return {
        "home": {"id": hub.home.id, "name": hub.home.name},
        "rooms": [{"id": r.id, "names": list(r.names)} for r in hub.home.rooms.values()],
        "devices": [_device(hub, d, states[d.id], language_of(request)) for d in shown],
    }


states_router = APIRouter(prefix="/api/states", tags=["devices"])


@states_router.get("")
async def list_states(request: Request) -> dict[str, Any]:
    """The current state of every device this caller is shown, by device id."""
    hub = hub_of(request)
    grant = grant_of(request)
    states = hub.states()
    return {"states": {d.id: state_json(states[d.id]) for d in hub.devices() if sees(grant, d)}}


@router.get("/{device_id}", responses=error_responses(404))
async def get_device(device_id: str, request: Request) -> dict[str, Any]:
    """One device (404 for one this caller is not shown)."""
    hub = hub_of(request)
    device = seen_device(hub, grant_of(request), device_id)
    return _device(hub, device, hub.state(device_id), language_of(request))


@router.patch("/{device_id}", responses=error_responses(403, 404, 422))
async def change_device(device_id: str, body: DeviceChange, request: Request) -> dict[str, Any]:
    """Rename a device, move it to another room of the home, hide or show it (owner and adults);
    kept across restarts and when its integration announces it again."""
    hub = hub_of(request)
    seen_device(hub, grant_of(request), device_id)
    if not caller_of(request).role.manages:
        raise NotAllowed("devices")
    device = await hub.edit_device(
        device_id, name=body.name, room=body.room, hidden=body.hidden, source=grant_of(request).source
    )
    return _device(hub, device, hub.state(device_id), language_of(request))


@router.delete("/{device_id}", responses=error_responses(403, 404))
async def delete_device(device_id: str, request: Request) -> dict[str, Any]:
    """Remove a device (owner and adults): one an integration found is forgotten until it is found
    again; a home-file device is hidden, with a note that it lives in the home file."""
    hub = hub_of(request)
    seen_device(hub, grant_of(request), device_id)
    if not caller_of(request).role.manages:
        raise NotAllowed("devices")
    forgotten = await hub.remove_device(device_id, source=grant_of(request).source)
    key = "device_edit.forgotten" if forgotten else "device_edit.home_file_note"
    return {"ok": True, "forgotten": forgotten, "message": render(key, language_of(request))}


@router.get("/{device_id}/state", responses=error_responses(404))
async def get_state(device_id: str, request: Request) -> dict[str, Any]:
    """One device's current state."""
    hub = hub_of(request)
    seen_device(hub, grant_of(request), device_id)
    return state_json(hub.state(device_id))


@router.post("/{device_id}/commands", responses=error_responses(202, 403, 404, 409, 502, 503))
async def send_command(device_id: str, body: CommandRequest, request: Request) -> dict[str, Any]:
    """Carry out a command; answers once the new state is stored."""
    hub = hub_of(request)
    grant = grant_of(request)
    state = await hub.dispatch(body.to_command(device_id, grant.source), grant=grant)
    return {"ok": True, "state": state_json(state)}


HISTORY_PAGE = 1000
HISTORY_MAX_POINTS = 20_000
"""Points read back for one graph at most (a month of a sensor that reports every few minutes)."""


@router.get("/{device_id}/history", responses=error_responses(404))
async def history(
    device_id: str,
    request: Request,
    hours: Annotated[float, Query(gt=0, le=24 * 31, description="How far back.")] = 24,
) -> dict[str, Any]:
    """The numbers the device reported (temperature, PM2.5, brightness, ...) over the last `hours`,
    from the stored events: one series per attribute, oldest point first, as [unix time, value]."""
    hub = hub_of(request)
    seen_device(hub, grant_of(request), device_id)
    since = time.time() - hours * 3600
    series: dict[str, list[list[float]]] = {}
    before: int | None = None
    read = 0
    while read < HISTORY_MAX_POINTS:
        query = EventQuery(
            device_id=device_id, kinds=(EventKind.STATE_CHANGED,), before_id=before, limit=HISTORY_PAGE
        )
        events = await hub.events(query)  # newest first
        for event in events:
            if event.at < since:
                break
            for name, value in event.data.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    series.setdefault(name, []).append([event.at, float(value)])
        read += len(events)
        if len(events) < HISTORY_PAGE or events[-1].at < since:
            break
        before = events[-1].id
    # A number that did not change in the range is still drawn: flat, at its current value.
    current = hub.state(device_id).attributes
    for name, value in current.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and name not in series:
            series[name] = [[time.time(), float(value)]]
    return {
        "device": device_id,
        "since": since,
        "until": time.time(),
        "series": {name: points[::-1] for name, points in sorted(series.items())},
    }
