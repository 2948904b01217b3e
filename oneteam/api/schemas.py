"""Request and response shapes at the HTTP edge (pydantic), and their conversion to the model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from oneteam.model import Command, Device, Direction, Event, State
from oneteam.model.conversation import MAX_SENTENCE_CHARS

ROW_ID_MAX = 2**63 - 1
"""Ids stored as SQLite INTEGER (events, schedules, alerts) fit in a signed 64-bit number."""


class ErrorDetail(BaseModel):
    """What went wrong, for machines (`key`) and for people (`message`, in the caller's language)."""

    key: str = Field(description="Message key, e.g. error.device_not_found.")
    message: str = Field(description="The message in the caller's language (Accept-Language).")
    detail: str | None = Field(default=None, description="Technical detail in English.")
    params: dict[str, Any] | None = Field(default=None, description="The facts the message names.")


class ErrorBody(BaseModel):
    """Every error answer of the hub's own API."""

    error: ErrorDetail


_MEANING = {
    202: (
        "Sent: the device received the command but has not confirmed it yet (error.command_pending); "
        "its new state follows as an event."
    ),
    400: "The request could not be read (a body that is not JSON, a bad form).",
    401: "No bearer token, or one that is not valid (revoked tokens fail at once).",
    403: "The token may not do this (its door's allowed commands or devices).",
    404: "No such device, link, alert, schedule or event.",
    409: "The request conflicts with the current state.",
    413: "The body is over the hub's limit.",
    422: (
        f"A value the device or the API does not accept, or a sentence over {MAX_SENTENCE_CHARS} characters."
    ),
    429: "Too many requests; retry after the Retry-After header's seconds.",
    502: "The device's vendor cloud refused or failed.",
    503: "The device, the storage or understanding is not available right now.",
}


_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Add to every operation of `spec` the errors any route of its shape can answer, whatever its
    router declared: a body can be unreadable (400), too large (413) or invalid (422); parameters
    can be invalid (422); ids in the path or an `ids` list can name nothing (404); a protected
    operation refuses a missing or revoked token (401). Idempotent (FastAPI caches the spec)."""
    meanings = {**_MEANING, 404: "No such device, link, alert, schedule, routine, member, token or event."}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", ())
            statuses: set[int] = set()
            if "requestBody" in operation:
                statuses |= {400, 413, 422}
            if parameters:
                statuses.add(422)
            names = [str(p.get("name", "")) for p in parameters]
            if any(p.get("in") == "path" for p in parameters) or "ids" in names:
                statuses.add(404)
            if operation.get("security"):
                statuses.add(401)
            responses = operation["responses"]
            for status in sorted(statuses):
                responses.setdefault(str(status), {"description": meanings[status], "content": _ERROR_BODY})
    return spec


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, each with the hub's error body."""
    return {status: {"model": ErrorBody, "description": _MEANING[status]} for status in statuses}


class OAuthError(BaseModel):
    """An error of the partner door, shaped as RFC 6749 §5.2 and RFC 6750 §3.1 require."""

    error: str = Field(description="invalid_request, invalid_client, invalid_grant, invalid_token, ...")
    error_description: str | None = None
    retry_after_s: int | None = Field(default=None, description="With rate_limited (429).")


def oauth_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the partner door's OAuth-shaped errors."""
    return {status: {"model": OAuthError, "description": _MEANING[status]} for status in statuses}


class CommandRequest(BaseModel):
    """A command for one device, as sent over HTTP or WebSocket."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=64, description="A command name, e.g. set_temperature.")
    # Strict: JSON `true` is not the number 1, and "24" is not 24.
    value: StrictInt | StrictFloat | StrictStr | None = Field(
        default=None, description="Number or canonical id (a boolean is refused)."
    )
    direction: Literal["up", "down"] | None = None
    target: str | None = Field(default=None, max_length=32, description="Refrigerator compartment.")

    def to_command(self, device_id: str, source: str) -> Command:
        """The model's Command."""
        return Command(
            device_id=device_id,
            name=self.command,
            value=self.value,
            direction=Direction(self.direction) if self.direction else None,
            target=self.target,
            source=source,
        )


class WsCommand(CommandRequest):
    """A command message on the WebSocket."""

    type: Literal["command"]
    device: str = Field(min_length=1, max_length=128)
    id: str | int | None = Field(default=None, description="Echoed in the reply to match it.")


def device_json(device: Device, state: State) -> dict[str, Any]:
    """A device with its capabilities and current state."""
    spec = device.spec
    return {
        "id": device.id,
        "type": device.type.value,
        "room": device.room,
        "names": list(device.names),
        "name": device.display_name,
        "integration": device.integration,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "capabilities": {
            "commands": list(spec.commands),
            "modes": list(spec.modes),
            "fan_speeds": list(spec.fan_speeds),
            "temperature_range": [spec.temperature_range.low, spec.temperature_range.high]
            if spec.temperature_range
            else None,
            "compartments": {k: [r.low, r.high] for k, r in spec.compartments.items()},
            "queries": list(spec.queries),
        },
        "state": state_json(state),
    }


def state_json(state: State) -> dict[str, Any]:
    """A device state."""
    return {
        "device_id": state.device_id,
        "attributes": dict(state.attributes),
        "is_available": state.is_available,
        "updated_at": state.updated_at,
    }


def event_json(event: Event) -> dict[str, Any]:
    """An event."""
    return event.as_dict()
