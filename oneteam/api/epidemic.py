"""Epidemic alerts: consent links (create, list, read, revoke) and the alerts homes received.

Mounted by the lead behind the bearer-token dependency. The service lives at
`request.app.state.epidemic` (oneteam.services.epidemic.EpidemicService). A phone number is
hashed as soon as it arrives and is never stored, logged or echoed back.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from oneteam.api.errors import error_body, language_of
from oneteam.api.schemas import ROW_ID_MAX, error_responses
from oneteam.services.epidemic import (
    AlertNotFound,
    AlertRecord,
    ConsentNotFound,
    EpidemicService,
    InvalidPhoneNumber,
    normalize_msisdn,
)

router = APIRouter(prefix="/api/epidemic", tags=["epidemic"])


def service_of(request: Request) -> EpidemicService:
    """The running epidemic service."""
    service: EpidemicService = request.app.state.epidemic
    return service


class ConsentCreate(BaseModel):
    """A request to link a person to a home."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(
        min_length=9, max_length=20, description="Mobile number; hashed at once, never stored."
    )
    home_id: str | None = Field(default=None, min_length=1, max_length=64)
    label: str = Field(default="", max_length=40, description="How the household calls the person.")
    language: Literal["ko", "en"] = "ko"

    @field_validator("phone")
    @classmethod
    def _korean_mobile(cls, value: str) -> str:
        try:
            normalize_msisdn(value)
        except InvalidPhoneNumber:
            # The message never repeats the number: validation errors are returned and may be logged.
            raise ValueError("not a Korean mobile number (010-1234-5678)") from None
        return value


def alert_json(alert: AlertRecord) -> dict[str, Any]:
    """An alert as JSON, with the texts the home was shown and told."""
    return {
        "id": alert.id,
        "link_id": alert.link_id,
        "home_id": alert.home_id,
        "day": alert.alert_day,
        "disease": alert.disease,
        "country": alert.country,
        "watch_until": alert.payload.get("watch_until"),
        "hotline": alert.payload.get("hotline"),
        "notice": alert.payload.get("notice", {}),
        "speech": alert.payload.get("speech", {}),
        "symptoms": alert.payload.get("symptoms", {}),
        "created_at": alert.created_at,
        "delivered_at": alert.delivered_at,
        "event_id": alert.event_id,
    }


def _not_found(error: ConsentNotFound | AlertNotFound, request: Request) -> JSONResponse:
    return JSONResponse(error_body(error, language_of(request)), status_code=404)


@router.post("/consents", status_code=201)
async def create_consent(body: ConsentCreate, request: Request) -> dict[str, Any]:
    """Link a person to a home (explicit consent); the same live link is returned if it exists."""
    service = service_of(request)
    link = await asyncio.to_thread(
        service.link, body.phone, home_id=body.home_id, label=body.label, language=body.language
    )
    return link.as_dict()


@router.get("/consents")
async def list_consents(
    request: Request,
    home_id: Annotated[str | None, Query(max_length=64)] = None,
    include_revoked: bool = False,
) -> dict[str, Any]:
    """Consent links, oldest first."""
    service = service_of(request)
    links = await asyncio.to_thread(service.consents, home_id=home_id, include_revoked=include_revoked)
    return {"consents": [link.as_dict() for link in links]}


@router.get("/consents/{link_id}", response_model=None, responses=error_responses(404))
async def get_consent(
    link_id: Annotated[str, Path(max_length=128)], request: Request
) -> dict[str, Any] | JSONResponse:
    """One consent link."""
    try:
        link = await asyncio.to_thread(service_of(request).store.consent, link_id)
    except ConsentNotFound as exc:
        return _not_found(exc, request)
    return link.as_dict()


@router.delete("/consents/{link_id}", response_model=None, responses=error_responses(404))
async def revoke_consent(
    link_id: Annotated[str, Path(max_length=128)], request: Request
) -> dict[str, Any] | JSONResponse:
    """Revoke a consent link: no alert reaches the home through it from now on."""
    try:
        link = await asyncio.to_thread(service_of(request).revoke, link_id)
    except ConsentNotFound as exc:
        return _not_found(exc, request)
    return link.as_dict()


@router.get("/alerts")
async def list_alerts(
    request: Request,
    home_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Alerts, newest first."""
    alerts = await asyncio.to_thread(service_of(request).alerts, home_id=home_id, limit=limit)
    return {"alerts": [alert_json(alert) for alert in alerts]}


@router.get("/alerts/{alert_id}", response_model=None, responses=error_responses(404))
async def get_alert(
    alert_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], request: Request
) -> dict[str, Any] | JSONResponse:
    """One alert."""
    try:
        alert = await asyncio.to_thread(service_of(request).store.alert, alert_id)
    except AlertNotFound as exc:
        return _not_found(exc, request)
    return alert_json(alert)


@router.post("/deliveries")
async def deliver(request: Request) -> dict[str, Any]:
    """Publish queued alerts now (a batch run queues them; the hub also delivers on a timer)."""
    # On the event loop on purpose: hub.publish is not thread-safe.
    events = service_of(request).deliver_pending()
    return {"delivered": len(events), "event_ids": [event.id for event in events]}
