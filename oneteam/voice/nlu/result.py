"""What understanding an utterance produces: one of five result kinds, as frozen data, plus two
about bookings (list, cancel) that the eval format cannot express.

`as_dict()` gives exactly the JSON of shared/eval/README.md for its five kinds; `commands()` gives the hub's
`Command`s (source="voice") for a command or schedule result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oneteam.model import Command, Direction

Number = int | float


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One thing to do to one device."""

    device: str
    """Device id."""
    command: str
    """A `CommandName` value the device's type accepts."""
    value: Number | str | None = None
    """Number (°C, %, volume, channel) or canonical id (mode, fan speed)."""
    direction: Direction | None = None
    """For `adjust_*`: up or down."""
    target: str | None = None
    """Refrigerator compartment: `fridge` or `freezer`."""

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON of one action (the same shape as the hub command's)."""
        return self.to_command().as_dict()

    def to_command(self) -> Command:
        """The hub command for this action."""
        return Command(
            device_id=self.device,
            name=self.command,
            value=self.value,
            direction=self.direction,
            target=self.target,
            source="voice",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """Do these now."""

    actions: tuple[Action, ...]

    kind = "command"

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON."""
        return {"kind": self.kind, "actions": [a.as_dict() for a in self.actions]}


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryResult:
    """Answer a question about one device's state."""

    device: str
    attribute: str
    """A query the device's type lists (`remaining_time`, `power`, ...)."""
    target: str | None = None
    """The refrigerator compartment asked about, if one was named (not part of the eval JSON)."""

    kind = "query"

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON."""
        return {"kind": self.kind, "device": self.device, "attribute": self.attribute}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleResult:
    """Do these later: after `delay_s` seconds, or at `at` (HH:MM, 24 h)."""

    actions: tuple[Action, ...]
    delay_s: int | None = None
    at: str | None = None

    kind = "schedule"

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.delay_s is not None:
            out["delay_s"] = self.delay_s
        if self.at is not None:
            out["at"] = self.at
        out["actions"] = [a.as_dict() for a in self.actions]
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ClarifyResult:
    """The target is ambiguous: ask back which of `candidates`."""

    candidates: tuple[str, ...] = ()
    """Device ids the person may have meant."""

    kind = "clarify"

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON."""
        return {"kind": self.kind, "candidates": list(self.candidates)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleListResult:
    """Say which bookings are pending (예약 뭐 있어?); `devices` narrows them when any were named.

    Not an eval kind: the eval format has no way to ask about bookings."""

    devices: tuple[str, ...] = ()

    kind = "schedule_list"

    def as_dict(self) -> dict[str, Any]:
        """The JSON (shaped like the eval kinds)."""
        return {"kind": self.kind, "devices": list(self.devices)}


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleCancelResult:
    """Cancel pending bookings: the latest one (아까 예약), those of `devices`, or all of them."""

    devices: tuple[str, ...] = ()
    which: str = "latest"
    """`latest`, `all`, or `devices` (every booking of the devices named)."""

    kind = "schedule_cancel"

    def as_dict(self) -> dict[str, Any]:
        """The JSON (shaped like the eval kinds)."""
        return {"kind": self.kind, "which": self.which, "devices": list(self.devices)}


@dataclass(frozen=True, slots=True, kw_only=True)
class NoneResult:
    """Not something the home should act on."""

    reason: str = ""
    """Why, when the dialog should say so (`too_long`); not part of the eval JSON."""

    kind = "none"

    def as_dict(self) -> dict[str, Any]:
        """The eval JSON."""
        return {"kind": self.kind}


Result = (
    CommandResult
    | QueryResult
    | ScheduleResult
    | ClarifyResult
    | NoneResult
    | ScheduleListResult
    | ScheduleCancelResult
)


def commands(result: Result) -> list[Command]:
    """The hub commands a command or schedule result asks for (empty for the other kinds)."""
    if isinstance(result, CommandResult | ScheduleResult):
        return [action.to_command() for action in result.actions]
    return []
