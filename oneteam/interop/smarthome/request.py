"""The shape of a fulfillment request (action.devices.SYNC, QUERY, EXECUTE, DISCONNECT) as pydantic
models with the limits the door keeps (how many devices and executions one request may name, how
long an id may be), and the requestId to echo even when a request is refused. `fulfillment.py`
validates every body against these before it reads it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_DEVICES = 1000
"""Most devices one QUERY or EXECUTE may name (a request above is a protocol error)."""
MAX_EXECUTIONS = 10
MAX_NUMERIC_ID = 10**64
"""A numeric requestId is echoed as a number when its magnitude is below this."""
RequestId = str | int


def echoed_id(body: object) -> RequestId:
    """The requestId to echo even when the request is refused: as sent, or "" when unusable."""
    value = body.get("requestId") if isinstance(body, dict) else None
    if isinstance(value, str) and len(value) <= 256:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_NUMERIC_ID:
        return value
    return ""


class _DeviceRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=256)


class Execution(BaseModel):
    model_config = ConfigDict(extra="allow")
    command: str = Field(min_length=1, max_length=128)
    params: dict[str, Any] = Field(default_factory=dict)


class _CommandGroup(BaseModel):
    model_config = ConfigDict(extra="allow")
    devices: list[_DeviceRef] = Field(min_length=1, max_length=MAX_DEVICES)
    execution: list[Execution] = Field(min_length=1, max_length=MAX_EXECUTIONS)


class QueryPayload(BaseModel):
    model_config = ConfigDict(extra="allow")
    devices: list[_DeviceRef] = Field(min_length=1, max_length=MAX_DEVICES)


class ExecutePayload(BaseModel):
    model_config = ConfigDict(extra="allow")
    commands: list[_CommandGroup] = Field(min_length=1, max_length=MAX_DEVICES)


class _Input(BaseModel):
    # Partners send extra fields (a locale `context`, two-factor `challenge`): tolerate them.
    model_config = ConfigDict(extra="allow")
    intent: Literal[
        "action.devices.SYNC", "action.devices.QUERY", "action.devices.EXECUTE", "action.devices.DISCONNECT"
    ]
    payload: dict[str, Any] | None = None


_StrId = Annotated[str, Field(min_length=1, max_length=256)]
_IntId = Annotated[int, Field(strict=True, gt=-MAX_NUMERIC_ID, lt=MAX_NUMERIC_ID)]


class Request(BaseModel):
    model_config = ConfigDict(extra="allow")
    # Some partner clouds send a JSON number; it is echoed back as sent (same type, same digits).
    requestId: _StrId | _IntId  # noqa: N815 (the API's field name)
    inputs: list[_Input] = Field(min_length=1, max_length=1)
