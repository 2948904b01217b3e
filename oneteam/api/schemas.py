"""Request and response shapes at the HTTP edge (pydantic), and their conversion to the model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oneteam.model import Command, Device, Direction, Event, State


class CommandRequest(BaseModel):
    """A command for one device, as sent over HTTP or WebSocket."""

    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, max_length=64, description="A command name, e.g. set_temperature.")
    value: float | int | str | None = Field(default=None, description="Number or canonical id.")
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
