"""Commands and their validation against a device's capabilities.

Every door (voice, REST, WebSocket, routine, a partner's EXECUTE) builds the same `Command`, and
`validate_command` checks it against the device's `TypeSpec` before any integration sees it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from oneteam.model.device import Device
from oneteam.model.errors import CommandNotSupported, InvalidValue, ValueProblem
from oneteam.model.types import Range


class CommandName(StrEnum):
    """Every command name the hub knows (a device type accepts a subset)."""

    TURN_ON = "turn_on"
    TURN_OFF = "turn_off"
    START = "start"
    PAUSE = "pause"
    STOP = "stop"
    RETURN_TO_BASE = "return_to_base"
    SET_TEMPERATURE = "set_temperature"
    ADJUST_TEMPERATURE = "adjust_temperature"
    SET_MODE = "set_mode"
    SET_FAN_SPEED = "set_fan_speed"
    SET_BRIGHTNESS = "set_brightness"
    ADJUST_BRIGHTNESS = "adjust_brightness"
    SET_VOLUME = "set_volume"
    ADJUST_VOLUME = "adjust_volume"
    SET_CHANNEL = "set_channel"
    LOCK = "lock"
    UNLOCK = "unlock"
    OPEN = "open"
    CLOSE = "close"


class Direction(StrEnum):
    """Which way an `adjust_*` command moves a value."""

    UP = "up"
    DOWN = "down"


CommandValue = float | int | str | None
MAX_COMMAND_NUMBER = 10**9
"""Largest magnitude of a numeric command value (far beyond any device's range)."""

# Step used by an adjust_* command when the person gave no amount ("좀 더 밝게").
DEFAULT_STEPS: dict[str, float] = {
    CommandName.ADJUST_TEMPERATURE: 1,
    CommandName.ADJUST_BRIGHTNESS: 20,
    CommandName.ADJUST_VOLUME: 3,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One thing to do to one device."""

    device_id: str
    name: str
    """A `CommandName` value; kept as str so unknown names can be refused with a clear message."""
    value: CommandValue = None
    """Number (°C, %, volume, channel) or canonical id (mode, fan speed)."""
    direction: Direction | None = None
    """For `adjust_*`: up or down; `value` is then the amount, if the person said one."""
    target: str | None = None
    """Refrigerator compartment: `fridge` or `freezer`."""
    source: str = "api"
    """Which door it came through: `api`, `voice`, `page`, `routine`, `partner:<id>`, ..."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str) -> Command:
        """The inverse of `as_dict` (for stored actions)."""
        direction = data.get("direction")
        return cls(
            device_id=str(data["device"]),
            name=str(data["command"]),
            value=data.get("value"),
            direction=Direction(direction) if direction else None,
            target=data.get("target"),
            source=source,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields that are set."""
        out: dict[str, Any] = {"device": self.device_id, "command": self.name}
        if self.value is not None:
            out["value"] = self.value
        if self.direction is not None:
            out["direction"] = self.direction.value
        if self.target is not None:
            out["target"] = self.target
        return out


_NO_VALUE = {
    CommandName.TURN_ON,
    CommandName.TURN_OFF,
    CommandName.START,
    CommandName.PAUSE,
    CommandName.STOP,
    CommandName.RETURN_TO_BASE,
    CommandName.LOCK,
    CommandName.UNLOCK,
    CommandName.OPEN,
    CommandName.CLOSE,
}


def validate_command(command: Command, device: Device) -> Command:
    """Check `command` against what `device` can do; return it normalised or raise InvalidCommand."""
    spec = device.spec
    if command.name not in spec.commands:
        raise CommandNotSupported(device.id, command.name, list(spec.commands))
    name = _BY_VALUE.get(command.name) or CommandName(command.name)
    if name in _NO_VALUE:
        return _validate_no_value(command, device, name)
    if name in _ADJUST:
        return _validate_adjust(command, device)
    if name is CommandName.SET_TEMPERATURE:
        return _validate_temperature(command, device)
    if name is CommandName.SET_MODE:
        return replace(command, value=_choice(command, spec.modes, "error.mode_not_allowed", device))
    if name is CommandName.SET_FAN_SPEED:
        return replace(
            command, value=_choice(command, spec.fan_speeds, "error.fan_speed_not_allowed", device)
        )
    return _validate_numbered(command, device, name)


def _validate_numbered(command: Command, device: Device, name: CommandName) -> Command:
    """Brightness, volume, channel: a number within the device's range."""
    range_name, key = _LIMITS[name]
    limit: Range = getattr(device.spec, range_name)
    value = command.value
    if type(value) is int and limit.low <= value <= limit.high and abs(value) <= MAX_COMMAND_NUMBER:
        return command  # a whole number in range: already plain, nothing to check further
    number = _number(command, device)
    if number not in limit or (name is CommandName.SET_CHANNEL and not float(number).is_integer()):
        problem = (
            ValueProblem.NO_SUCH_CHANNEL if name is CommandName.SET_CHANNEL else ValueProblem.OUT_OF_RANGE
        )
        raise _outside(key, f"{name} {number} is outside {limit.text()}", number, limit, device, problem)
    return _with_value(command, _plain(number))


def _with_value(command: Command, value: int | float) -> Command:
    """`command` with `value`; itself when it already holds it (dataclasses.replace is slow)."""
    if type(value) is type(command.value) and value == command.value:
        return command
    return replace(command, value=value)


_BY_VALUE: dict[str, CommandName] = {member.value: member for member in CommandName}
"""Command names by text: a dict look-up, where calling the enum costs a microsecond a command."""
_ADJUST = frozenset(member for member in CommandName if member.value.startswith("adjust_"))
_LIMITS: dict[CommandName, tuple[str, str]] = {
    CommandName.SET_BRIGHTNESS: ("brightness_range", "error.brightness_out_of_range"),
    CommandName.SET_VOLUME: ("volume_range", "error.volume_out_of_range"),
    CommandName.SET_CHANNEL: ("channel_range", "error.channel_out_of_range"),
}
"""Numbered commands: the device spec's range attribute and the refusal's message key."""


def _outside(
    key: str, message: str, number: float, limit: Range, device: Device, problem: ValueProblem
) -> InvalidValue:
    """A number outside `limit`, with the facts every door's message names (device, value, range)."""
    return InvalidValue(
        key,
        message,
        problem=problem,
        device=device.name_in("ko"),
        device_en=device.name_in("en"),
        value=_plain(number),
        low=_plain(limit.low),
        high=_plain(limit.high),
    )


def _validate_no_value(command: Command, device: Device, name: CommandName) -> Command:
    if command.value is None:
        return command
    if name is CommandName.START:
        return _validate_zone(command, device)
    raise InvalidValue(
        "error.no_value_expected", f"{name} takes no value", command=name.value, device=device.id
    )


def _validate_zone(command: Command, device: Device) -> Command:
    """`start` with a value sends a robot cleaner to one of its named zones, and only there."""
    zones = device.zone_ids()
    if not zones:
        raise InvalidValue(
            "error.zones_not_supported",
            f"{device.id} cannot clean one zone",
            problem=ValueProblem.NOT_SUPPORTED,
            device=device.name_in("ko"),
            device_en=device.name_in("en"),
        )
    return replace(command, value=_choice(command, zones, "error.zone_not_allowed", device))


def _validate_adjust(command: Command, device: Device) -> Command:
    if command.direction is None:
        raise InvalidValue(
            "error.direction_required", f"{command.name} needs a direction (up or down)", device=device.id
        )
    if command.value is None:
        return command
    amount = _number(command, device)
    if amount <= 0 or amount > 100:
        raise InvalidValue(
            "error.amount_out_of_range",
            f"{command.name} amount {amount} must be between 0 and 100",
            problem=ValueProblem.OUT_OF_RANGE,
            device=device.id,
            value=_plain(amount),
        )
    return replace(command, value=_plain(amount))


def _validate_temperature(command: Command, device: Device) -> Command:
    spec = device.spec
    number = _number(command, device)
    if spec.compartments:
        target = command.target or _compartment_for(number, spec.compartments)
        if target not in spec.compartments:
            raise InvalidValue(
                "error.compartment_not_allowed",
                f"no compartment {target!r}; allowed: {', '.join(spec.compartments)}",
                problem=ValueProblem.NOT_SUPPORTED,
                device=device.id,
                target=str(target),
                allowed=", ".join(spec.compartments),
            )
        limit = spec.compartments[target]
        command = replace(command, target=target)
    else:
        if command.target is not None:
            raise InvalidValue(
                "error.compartment_not_allowed",
                f"{device.id} has no compartments",
                problem=ValueProblem.NOT_SUPPORTED,
                device=device.id,
                target=command.target,
                allowed="-",
            )
        limit = spec.temperature_range or Range(-50, 100)
    if number not in limit:
        message = f"temperature {_plain(number)} °C is outside {limit.text()} °C"
        raise _outside(
            "error.temperature_out_of_range", message, number, limit, device, ValueProblem.OUT_OF_RANGE
        )
    return replace(command, value=_plain(number))


def _compartment_for(value: float, compartments: dict[str, Range]) -> str:
    """The compartment whose range holds `value` (`-18` → freezer); `fridge` when none does."""
    for name, limit in compartments.items():
        if value in limit:
            return name
    return "fridge" if "fridge" in compartments else next(iter(compartments))


def _number(command: Command, device: Device) -> float:
    value = command.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(
            "error.number_required",
            f"{command.name} needs a number, got {value!r}",
            device=device.id,
            command=command.name,
        )
    if isinstance(value, int) and abs(value) > MAX_COMMAND_NUMBER:
        # float(10**400) overflows; no device takes a number anywhere near this.
        raise InvalidValue(
            "error.number_too_large",
            f"{command.name} value is beyond {MAX_COMMAND_NUMBER}",
            device=device.id,
            command=command.name,
            limit=MAX_COMMAND_NUMBER,
        )
    if math.isnan(value) or math.isinf(value):
        raise InvalidValue(
            "error.number_required",
            "NaN and infinity are not numbers",
            device=device.id,
            command=command.name,
        )
    return float(value)


def _choice(command: Command, allowed: tuple[str, ...], key: str, device: Device) -> str:
    if not isinstance(command.value, str) or command.value not in allowed:
        raise InvalidValue(
            key,
            f"{command.name} {command.value!r} is not one of {', '.join(allowed)}",
            problem=ValueProblem.NOT_SUPPORTED,
            device=device.id,
            value=str(command.value),
            allowed=", ".join(allowed),
        )
    return command.value


def _plain(number: float) -> int | float:
    """24.0 → 24, 24.5 → 24.5: integers travel as integers."""
    return int(number) if float(number).is_integer() else number
