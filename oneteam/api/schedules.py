"""Scheduled commands: list what is pending, cancel one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from oneteam.api.auth import grant_of, hub_of, sees
from oneteam.api.schemas import ROW_ID_MAX, error_responses
from oneteam.hub import Hub
from oneteam.model import DeviceNotFound, Grant
from oneteam.model.schedule import Schedule

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


@router.get("")
async def list_schedules(request: Request) -> dict[str, Any]:
    """Pending schedules this caller is shown (every device they act on is), earliest first."""
    hub, grant = hub_of(request), grant_of(request)
    return {"schedules": [s.as_dict() for s in hub.scheduler.pending() if _shown(hub, grant, s)]}


def _shown(hub: Hub, grant: Grant, schedule: Schedule) -> bool:
    if grant.devices is None and grant.rooms is None:
        return True
    try:
        return all(sees(grant, hub.device(c.device_id)) for c in schedule.commands)
    except DeviceNotFound:
        return False


@router.delete("/{schedule_id}", responses=error_responses(404))
async def cancel_schedule(
    schedule_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], request: Request
) -> dict[str, Any]:
    """Cancel a pending schedule (one this caller is shown)."""
    hub, grant = hub_of(request), grant_of(request)
    booked = next((s for s in hub.scheduler.pending() if s.id == schedule_id), None)
    if booked is None or not _shown(hub, grant, booked) or not await hub.scheduler.cancel(schedule_id):
        raise HTTPException(status_code=404)
    return {"ok": True}
