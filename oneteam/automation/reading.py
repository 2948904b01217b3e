"""Reading a definition's values, checked as they are read: mappings, lists, names, numbers,
durations, clock times, weekdays, devices (by id, or by `type` and `room`) and command steps. A
failure says where (`x.actions[2]`) and why (AutomationInvalid)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oneteam.automation.errors import AutomationInvalid
from oneteam.automation.model import CommandAction
from oneteam.model import Command, Device, Direction, OneteamError, Room, StateValue, validate_command

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DURATION = re.compile(r"^(-)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_DAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate("월화수목금토일")},
}
_DAY_GROUPS = {"weekdays": (0, 1, 2, 3, 4), "weekend": (5, 6), "평일": (0, 1, 2, 3, 4), "주말": (5, 6)}
NOTIFIER_NAMES = ("page", "speech", "mqtt", "webhook")
"""The notifiers a `notify` step may name in `to` (notify.py)."""
MAX_DURATION_S = 7 * 86400.0
MAX_NODES = 1000
"""Triggers, conditions and steps one definition may hold (nested ones counted)."""


@dataclass(frozen=True, slots=True)
class Devices:
    """What definitions are checked against: the devices and rooms the hub knows now."""

    devices: Mapping[str, Device]
    rooms: Mapping[str, Room]


def parse_duration(value: Any) -> float | None:
    """Seconds from a number or "90s", "3m", "1h30m", "00:03:00" (negative allowed: "-30m")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower().replace(" ", "")
    sign = -1.0 if text.startswith("-") else 1.0
    clock = text.lstrip("-+").split(":")
    if len(clock) in (2, 3) and all(p.isdigit() for p in clock):
        parts = [int(p) for p in clock] + ([0] if len(clock) == 2 else [])
        return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])
    match = _DURATION.match(text)
    if match is None or not any(match.group(i) for i in (2, 3, 4)):
        return None
    hours, minutes, seconds = (float(match.group(i) or 0) for i in (2, 3, 4))
    return (-1.0 if match.group(1) else 1.0) * (hours * 3600 + minutes * 60 + seconds)


def clock_seconds(text: str) -> int | None:
    """Seconds after midnight of "HH:MM" or "HH:MM:SS"."""
    match = _CLOCK.match(text)
    if match is None:
        return None
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + int(match.group(3) or 0)


def command_of(action: CommandAction, source: str) -> Command:
    """The hub command a step sends."""
    return Command(
        device_id=action.device,
        name=action.command,
        value=action.value,
        direction=Direction(action.direction) if action.direction else None,
        target=action.target,
        source=source,
    )


class Reader:
    """Reads one definition: where it is (for messages), notes on dropped steps, a size budget."""

    def __init__(self, home: Devices, where: str) -> None:
        self.home = home
        self.where = where
        self.notes: list[dict[str, Any]] = []
        self.budget = MAX_NODES

    def spend(self, path: str) -> None:
        """Count one trigger, condition or step: YAML aliases can make a small text expand
        enormously, so a definition has a size limit."""
        self.budget -= 1
        if self.budget < 0:
            raise self.fail("automation.too_large", path, "too large", limit=MAX_NODES)

    def fail(self, key: str, path: str, message: str, **params: Any) -> AutomationInvalid:
        return AutomationInvalid(key, f"{self.where}{path}", message, **params)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail("automation.not_mapping", path, "expected a mapping")
        return {str(k): v for k, v in value.items()}

    def sequence(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail("automation.not_list", path, "expected a list")
        return value

    def no_extra(self, mapping: Mapping[str, Any], known: set[str], path: str) -> None:
        extra = sorted(set(mapping) - known)
        if extra:
            raise self.fail(
                "automation.unknown_field",
                path or "",
                f"unknown field {extra[0]}",
                field=extra[0],
                allowed=", ".join(sorted(known)),
            )

    def names(self, value: Any, routine_id: str) -> dict[str, str]:
        if value is None:
            return {"ko": routine_id}
        if isinstance(value, str) and value.strip():
            return {"ko": value.strip()}
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            return {str(k): str(v).strip() for k, v in value.items()}
        raise self.fail("automation.bad_text", "names", "names must be text or {ko, en}")

    def texts(self, value: Any, path: str) -> dict[str, str]:
        if isinstance(value, str) and value.strip():
            return {"ko": value.strip()}
        if isinstance(value, dict) and value and all(isinstance(v, str) and v for v in value.values()):
            return {str(k): str(v) for k, v in value.items()}
        raise self.fail("automation.bad_text", path, "text or {ko, en} expected")

    def notifiers(self, item: Mapping[str, Any], path: str) -> tuple[str, ...]:
        """A notify step's `to`: notifier names (a name this hub has not set up is skipped at run time)."""
        names = item.get("to", [])
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or any(n not in NOTIFIER_NAMES for n in names):
            raise self.fail(
                "automation.bad_notifier",
                f"{path}.to",
                "unknown notifier",
                value=str(names),
                allowed=", ".join(NOTIFIER_NAMES),
            )
        return tuple(dict.fromkeys(str(n) for n in names))

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail("automation.bad_value", path, "true or false expected", value=str(value))
        return value

    def number(self, value: Any, path: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail("automation.bad_number", path, "a number expected", value=str(value))
        return float(value)

    def duration(self, value: Any, path: str, *, signed: bool = False) -> float:
        seconds = parse_duration(value)
        if seconds is None or abs(seconds) > MAX_DURATION_S or (seconds < 0 and not signed):
            raise self.fail("automation.bad_duration", path, f"bad duration {value!r}", value=str(value))
        return seconds

    def clock(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or clock_seconds(value) is None:
            raise self.fail("automation.bad_time", path, f"bad time {value!r}", value=str(value))
        return value

    def days(self, value: Any, path: str) -> tuple[int, ...]:
        if isinstance(value, str) and value in _DAY_GROUPS:
            return _DAY_GROUPS[value]
        items = value if isinstance(value, list) else [value]
        days: list[int] = []
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
                days.append(item)
            elif isinstance(item, str) and item.lower()[:3] in _DAYS:
                days.append(_DAYS[item.lower()[:3]])
            elif isinstance(item, str) and item[:1] in _DAYS:
                days.append(_DAYS[item[:1]])
            else:
                raise self.fail("automation.bad_weekday", path, f"bad weekday {item!r}", value=str(item))
        return tuple(sorted(set(days)))

    def values(self, value: Any) -> tuple[StateValue, ...]:
        items = value if isinstance(value, list) else [value]
        return tuple(v for v in items if isinstance(v, bool | int | float | str) or v is None)

    def device(self, value: Any, path: str) -> Device:
        device = self.home.devices.get(str(value)) if isinstance(value, str) else None
        if device is None:
            raise self.fail("automation.unknown_device", path, f"no device {value!r}", device=str(value))
        return device

    def room_matches(self, device: Device, room: str) -> bool:
        if device.room is None:
            return False
        if device.room == room:
            return True
        known = self.home.rooms.get(device.room)
        return known is not None and room in known.names

    def devices_for(self, item: Mapping[str, Any], path: str) -> list[Device]:
        """The device a step names, or every device of its type (and room); [] with a note if none."""
        if "device" in item:
            return [self.device(item["device"], f"{path}.device")]
        type_name, room = item.get("type"), item.get("room")
        if not isinstance(type_name, str):
            raise self.fail("automation.no_device", path, "name a device, or a type (and room)")
        found = [
            d
            for d in self.home.devices.values()
            if d.type.value == type_name and (room is None or self.room_matches(d, str(room)))
        ]
        if not found:
            self.notes.append(
                {
                    "key": "automation.note_no_device",
                    "where": f"{self.where}{path}",
                    "type": type_name,
                    "room": room or "",
                }
            )
        return found

    def commands(self, value: Any, path: str) -> list[CommandAction]:
        self.spend(path)
        item = self.mapping(value, path)
        self.no_extra(
            item,
            {"device", "type", "room", "command", "value", "direction", "target", "continue_on_error"},
            path,
        )
        name = item.get("command")
        if not isinstance(name, str):
            raise self.fail("automation.no_command", path, "a command is needed")
        direction = item.get("direction")
        if direction is not None and direction not in {d.value for d in Direction}:
            raise self.fail("automation.bad_value", f"{path}.direction", "up or down", value=str(direction))
        value_ = item.get("value")
        if value_ is not None and (isinstance(value_, bool) or not isinstance(value_, int | float | str)):
            raise self.fail("automation.bad_value", f"{path}.value", "a number or a name", value=str(value_))
        out: list[CommandAction] = []
        for device in self.devices_for(item, path):
            action = CommandAction(
                device=device.id,
                command=name,
                value=value_,
                direction=direction,
                target=item.get("target"),
                continue_on_error=self.boolean(
                    item.get("continue_on_error", False), f"{path}.continue_on_error"
                ),
            )
            try:
                checked = validate_command(command_of(action, "routine"), device)
            except OneteamError as exc:
                raise AutomationInvalid.refused(f"{self.where}{path}", exc) from None
            out.append(
                CommandAction(
                    device=device.id,
                    command=checked.name,
                    value=checked.value,
                    direction=action.direction,
                    target=checked.target,
                    continue_on_error=action.continue_on_error,
                )
            )
        return out

    def attribute(self, item: Mapping[str, Any], path: str) -> str:
        attribute = item.get("attribute")
        if not isinstance(attribute, str) or not attribute:
            raise self.fail("automation.no_attribute", path, "an attribute is needed")
        return attribute
