"""Devices: list, read, and command them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from oneteam.api.auth import grant_of, hub_of
from oneteam.api.schemas import CommandRequest, device_json, error_responses, state_json

router = APIRouter(prefix="/api/devices", tags=["devices"])


@router.get("")
async def list_devices(request: Request) -> dict[str, Any]:
    """Every device of the home, with rooms, capabilities and current state."""
    hub = hub_of(request)
    states = hub.states()
    return {
        "home": {"id": hub.home.id, "name": hub.home.name},
        "rooms": [{"id": r.id, "names": list(r.names)} for r in hub.home.rooms.values()],
        "devices": [device_json(d, states[d.id]) for d in hub.devices()],
    }


@router.get("/{device_id}", responses=error_responses(404))
async def get_device(device_id: str, request: Request) -> dict[str, Any]:
    """One device."""
    hub = hub_of(request)
    return device_json(hub.device(device_id), hub.state(device_id))


@router.get("/{device_id}/state", responses=error_responses(404))
async def get_state(device_id: str, request: Request) -> dict[str, Any]:
    """One device's current state."""
    return state_json(hub_of(request).state(device_id))


@router.post("/{device_id}/commands", responses=error_responses(202, 403, 404, 409, 502, 503))
async def send_command(device_id: str, body: CommandRequest, request: Request) -> dict[str, Any]:
    """Carry out a command; answers once the new state is stored."""
    hub = hub_of(request)
    grant = grant_of(request)
    state = await hub.dispatch(body.to_command(device_id, grant.source), grant=grant)
    return {"ok": True, "state": state_json(state)}
