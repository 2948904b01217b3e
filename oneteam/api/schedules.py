"""Scheduled commands: list what is pending, cancel one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from oneteam.api.auth import hub_of
from oneteam.api.schemas import ROW_ID_MAX, error_responses

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


@router.get("")
async def list_schedules(request: Request) -> dict[str, Any]:
    """Pending schedules, earliest first."""
    return {"schedules": [s.as_dict() for s in hub_of(request).scheduler.pending()]}


@router.delete("/{schedule_id}", responses=error_responses(404))
async def cancel_schedule(
    schedule_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], request: Request
) -> dict[str, Any]:
    """Cancel a pending schedule."""
    if not await hub_of(request).scheduler.cancel(schedule_id):
        raise HTTPException(status_code=404)
    return {"ok": True}
