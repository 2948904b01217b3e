"""Failure prediction over HTTP: saved models, predictions on posted rows, current warnings.

The service object is `request.app.state.maintenance` (a MaintenanceService).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from oneteam.api.schemas import error_responses
from oneteam.services.maintenance import MaintenanceService

router = APIRouter(prefix="/api/maintenance", tags=["maintenance"])

Cell = float | int | str | None


class PredictRequest(BaseModel):
    """Rows to predict on, as column → value objects (the columns of a C-MAPSS, AI4I or telemetry CSV)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = Field(
        default=None, max_length=64, description="A saved model name; default: the one the columns fit."
    )
    rows: list[dict[str, Cell]] = Field(max_length=20_000)


def _service(request: Request) -> MaintenanceService:
    service: MaintenanceService = request.app.state.maintenance
    return service


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    """Every saved model with its metrics, data fingerprint, version and input columns."""
    cards = await asyncio.to_thread(_service(request).models)
    return {"models": [card.summary() for card in cards]}


@router.post("/predict", responses=error_responses(404))
async def predict(body: PredictRequest, request: Request) -> dict[str, Any]:
    """Remaining life (C-MAPSS units, appliances) or failure probability (AI4I rows)."""
    frame = pd.DataFrame.from_records(body.rows)
    card, predictions = await asyncio.to_thread(_service(request).predict, frame, body.model)
    return {
        "model": card.name,
        "version": card.version,
        "predictions": json.loads(predictions.to_json(orient="records")),
    }


@router.get("/warnings")
async def list_warnings(request: Request) -> dict[str, Any]:
    """Current appliance warnings, soonest failure first."""
    return {"warnings": [warning.data() for warning in _service(request).warnings()]}
