"""Routines and scenes from YAML/JSON mappings and back, checked against the home at the edge.

One shape serves the REST body, the home file's `routines:`/`scenes:` and the presets. A step may
name a device by id, or by `type` (and `room`, by id or by any of its names) so a preset fits any
home: such a step becomes one step per matching device, and one that matches nothing is dropped
with a note. Unknown devices, commands a device lacks and values out of range are refused with
the reason (AutomationInvalid), before anything is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter

from oneteam.automation.errors import AutomationInvalid
from oneteam.automation.model import (
    Action,
    AllOf,
    AnyOf,
    Automation,
    CommandAction,
    Condition,
    CronTrigger,
    DelayAction,
    EventTrigger,
    HolidayCondition,
    Mode,
    Not,
    NotifyAction,
    NumericCondition,
    PhraseTrigger,
    Routine,
    RunAction,
    SayAction,
    Scene,
    SceneAction,
    StateCondition,
    StateTrigger,
    SunTrigger,
    TimeCondition,
    TimeTrigger,
    Trigger,
    WaitAction,
    WeekdayCondition,
)
from oneteam.model import (
    Command,
    Device,
    Direction,
    EventKind,
    OneteamError,
    Room,
    StateValue,
    validate_command,
)

_ID = re.compile(r"^[\w가-힣][\w가-힣\-]{0,63}$")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DURATION = re.compile(r"^(-)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
_DAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate("월화수목금토일")},
}
_DAY_GROUPS = {"weekdays": (0, 1, 2, 3, 4), "weekend": (5, 6), "평일": (0, 1, 2, 3, 4), "주말": (5, 6)}
_EVENT_KINDS = {k.value for k in EventKind}
NOTIFIER_NAMES = ("page", "speech", "mqtt", "webhook")
"""The notifiers a `notify` step may name in `to` (notify.py)."""
MAX_DURATION_S = 7 * 86400.0
MAX_STEPS = 200
MAX_NODES = 1000
"""Triggers, conditions and steps one definition may hold (nested ones counted)."""
MAX_DEPTH = 8
"""How deeply and/or/not may nest."""


@dataclass(frozen=True, slots=True)
class Devices:
    """What definitions are checked against: the devices and rooms the hub knows now."""

    devices: Mapping[str, Device]
    rooms: Mapping[str, Room]


@dataclass(slots=True)
class Parsed:
    """A checked routine and what was dropped from it on the way."""

    routine: Routine
    notes: list[dict[str, Any]] = field(default_factory=list)


def parse_routine(data: Any, home: Devices, *, kind: str | None = None, where: str = "") -> Parsed:
    """A scene (`targets:`) or an automation (`actions:`) from a mapping; AutomationInvalid if wrong."""
    reader = _Reader(home, where)
    mapping = reader.mapping(data, where or "routine")
    routine_id = mapping.get("id")
    if not isinstance(routine_id, str) or not _ID.match(routine_id):
        raise AutomationInvalid(
            "automation.bad_id", f"{where}id", f"bad id {routine_id!r}", id=str(routine_id)
        )
    reader.where = f"{where}{routine_id}."
    is_scene = kind == "scene" if kind else "targets" in mapping
    known = {"id", "names", "name", "enabled", "kind"} | (
        {"targets"} if is_scene else {"triggers", "conditions", "actions", "mode", "max_runs"}
    )
    reader.no_extra(mapping, known, "")
    names = reader.names(mapping.get("names", mapping.get("name")), routine_id)
    enabled = reader.boolean(mapping.get("enabled", True), "enabled")
    routine: Routine
    if is_scene:
        targets = tuple(
            t
            for i, item in enumerate(reader.sequence(mapping.get("targets"), "targets"))
            for t in reader.commands(item, f"targets[{i}]")
        )
        if not targets:
            raise AutomationInvalid("automation.empty", f"{reader.where}targets", "a scene needs targets")
        routine = Scene(id=routine_id, names=names, targets=targets, enabled=enabled)
    else:
        mode_text = mapping.get("mode", "single")
        if mode_text not in {m.value for m in Mode}:
            raise AutomationInvalid(
                "automation.bad_mode", f"{reader.where}mode", f"mode {mode_text!r}", value=str(mode_text)
            )
        max_runs = mapping.get("max_runs", 10)
        if isinstance(max_runs, bool) or not isinstance(max_runs, int) or not 1 <= max_runs <= 1000:
            raise AutomationInvalid(
                "automation.bad_number", f"{reader.where}max_runs", "max_runs is 1–1000", value=str(max_runs)
            )
        triggers = tuple(
            trigger
            for i, t in enumerate(reader.sequence(mapping.get("triggers", []), "triggers"))
            for trigger in reader.triggers(t, f"triggers[{i}]")
        )
        conditions = tuple(
            reader.condition(c, f"conditions[{i}]")
            for i, c in enumerate(reader.sequence(mapping.get("conditions", []), "conditions"))
        )
        actions = tuple(
            a
            for i, item in enumerate(reader.sequence(mapping.get("actions"), "actions"))
            for a in reader.action(item, f"actions[{i}]")
        )
        if not actions:
            raise AutomationInvalid(
                "automation.empty", f"{reader.where}actions", "an automation needs actions"
            )
        if len(actions) > MAX_STEPS:
            raise AutomationInvalid(
                "automation.bad_number", f"{reader.where}actions", "too many steps", value=str(len(actions))
            )
        routine = Automation(
            id=routine_id,
            names=names,
            triggers=triggers,
            conditions=conditions,
            actions=actions,
            mode=Mode(mode_text),
            max_runs=max_runs,
            enabled=enabled,
        )
    return Parsed(routine, reader.notes)


def check_references(routines: Mapping[str, Routine], routine: Routine) -> None:
    """A scene or `run` step must name a routine that exists (a routine may not run itself)."""
    if not isinstance(routine, Automation):
        return
    for i, action in enumerate(routine.actions):
        where = f"{routine.id}.actions[{i}]"
        if isinstance(action, SceneAction) and not isinstance(routines.get(action.scene), Scene):
            raise AutomationInvalid(
                "automation.unknown_scene", where, f"no scene {action.scene}", scene=action.scene
            )
        if isinstance(action, RunAction) and (
            action.routine == routine.id or not isinstance(routines.get(action.routine), Automation)
        ):
            raise AutomationInvalid(
                "automation.unknown_routine", where, f"no routine {action.routine}", routine=action.routine
            )


def commands_in(routine: Routine, routines: Mapping[str, Routine]) -> list[CommandAction]:
    """Every command a routine may send, through its scenes and the routines it runs."""
    found: list[CommandAction] = []
    seen: set[str] = set()
    pending = [routine]
    while pending:
        current = pending.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        steps = current.targets if isinstance(current, Scene) else current.actions
        for step in steps:
            if isinstance(step, CommandAction):
                found.append(step)
            elif isinstance(step, SceneAction | RunAction):
                other = routines.get(step.scene if isinstance(step, SceneAction) else step.routine)
                if other is not None:
                    pending.append(other)
    return found


# -- back to plain data ----------------------------------------------------------------------


def routine_to_dict(routine: Routine) -> dict[str, Any]:
    """The mapping `parse_routine` reads (what export writes)."""
    out: dict[str, Any] = {"id": routine.id, "names": dict(routine.names)}
    if not routine.enabled:
        out["enabled"] = False
    if isinstance(routine, Scene):
        out["targets"] = [_command_dict(t) for t in routine.targets]
        return out
    if routine.mode is not Mode.SINGLE:
        out["mode"] = routine.mode.value
    if routine.max_runs != 10:
        out["max_runs"] = routine.max_runs
    out["triggers"] = [trigger_to_dict(t) for t in routine.triggers]
    if routine.conditions:
        out["conditions"] = [condition_to_dict(c) for c in routine.conditions]
    out["actions"] = [action_to_dict(a) for a in routine.actions]
    return out


def trigger_to_dict(trigger: Trigger) -> dict[str, Any]:  # noqa: PLR0912
    """One trigger as plain data."""
    match trigger:
        case TimeTrigger():
            return {"time": trigger.at, **({"weekdays": list(trigger.weekdays)} if trigger.weekdays else {})}
        case CronTrigger():
            return {"cron": trigger.cron}
        case SunTrigger():
            return {"sun": trigger.event, **({"offset": trigger.offset_s} if trigger.offset_s else {})}
        case StateTrigger():
            out: dict[str, Any] = {"device": trigger.device, "attribute": trigger.attribute}
            for name, value in (("to", trigger.to), ("from", trigger.from_)):
                if value:
                    out[name] = list(value)
            for name, number in (("above", trigger.above), ("below", trigger.below)):
                if number is not None:
                    out[name] = number
            if trigger.for_s:
                out["for"] = trigger.for_s
            return out
        case EventTrigger():
            event: dict[str, Any] = {"event": trigger.kind}
            if trigger.device:
                event["device"] = trigger.device
            if trigger.data:
                event["data"] = dict(trigger.data)
            return event
        case PhraseTrigger():
            return {"phrase": trigger.phrase, "language": trigger.language}


def condition_to_dict(condition: Condition) -> dict[str, Any]:  # noqa: PLR0911
    """One condition as plain data."""
    match condition:
        case StateCondition():
            return {
                "device": condition.device,
                "attribute": condition.attribute,
                "is": list(condition.equals),
            }
        case NumericCondition():
            out: dict[str, Any] = {"device": condition.device, "attribute": condition.attribute}
            if condition.above is not None:
                out["above"] = condition.above
            if condition.below is not None:
                out["below"] = condition.below
            return out
        case TimeCondition():
            window = {k: v for k, v in (("after", condition.after), ("before", condition.before)) if v}
            return {"time": window}
        case WeekdayCondition():
            return {"weekday": list(condition.days)}
        case HolidayCondition():
            return {"holiday": condition.is_holiday, "country": condition.country}
        case AllOf():
            return {"and": [condition_to_dict(c) for c in condition.conditions]}
        case AnyOf():
            return {"or": [condition_to_dict(c) for c in condition.conditions]}
        case Not():
            return {"not": condition_to_dict(condition.condition)}


def action_to_dict(action: Action) -> dict[str, Any]:  # noqa: PLR0911
    """One action as plain data."""
    match action:
        case CommandAction():
            return _command_dict(action)
        case SceneAction():
            return {"scene": action.scene}
        case DelayAction():
            return {"delay": action.seconds}
        case WaitAction():
            wait: dict[str, Any] = {"device": action.device, "attribute": action.attribute}
            if action.to:
                wait["to"] = list(action.to)
            if action.above is not None:
                wait["above"] = action.above
            if action.below is not None:
                wait["below"] = action.below
            wait["timeout"] = action.timeout_s
            if not action.continue_on_timeout:
                wait["continue_on_timeout"] = False
            return {"wait": wait}
        case NotifyAction():
            return {"notify": dict(action.text), **({"to": list(action.to)} if action.to else {})}
        case SayAction():
            return {"say": dict(action.text)}
        case RunAction():
            return {"run": action.routine}


def _command_dict(action: CommandAction) -> dict[str, Any]:
    out: dict[str, Any] = {"device": action.device, "command": action.command}
    for name in ("value", "direction", "target"):
        if getattr(action, name) is not None:
            out[name] = getattr(action, name)
    if action.continue_on_error:
        out["continue_on_error"] = True
    return out


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


# -- the reader ------------------------------------------------------------------------------


class _Reader:
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

    def triggers(self, value: Any, path: str) -> list[Trigger]:
        """One trigger, or one per device when it names a device `type` (and `room`), so a preset
        such as "a wash finished" fits any home (none, with a note, when the home has no such device)."""
        item = self.mapping(value, path)
        if "type" not in item or "device" in item or not ("event" in item or "attribute" in item):
            return [self.trigger(item, path)]
        rest = {k: v for k, v in item.items() if k not in ("type", "room")}
        return [self.trigger({**rest, "device": d.id}, path) for d in self.devices_for(item, path)]

    def trigger(self, value: Any, path: str) -> Trigger:
        self.spend(path)
        item = self.mapping(value, path)
        if "time" in item:
            self.no_extra(item, {"time", "weekdays"}, path)
            days = self.days(item["weekdays"], f"{path}.weekdays") if "weekdays" in item else ()
            return TimeTrigger(at=self.clock(item["time"], f"{path}.time"), weekdays=days)
        if "cron" in item:
            self.no_extra(item, {"cron"}, path)
            expression = item["cron"]
            if not isinstance(expression, str) or not croniter.is_valid(expression):
                raise self.fail(
                    "automation.bad_cron", path, f"bad cron {expression!r}", value=str(expression)
                )
            return CronTrigger(cron=expression)
        if "sun" in item:
            self.no_extra(item, {"sun", "offset"}, path)
            if item["sun"] not in ("sunrise", "sunset"):
                raise self.fail(
                    "automation.bad_value", f"{path}.sun", "sunrise or sunset", value=str(item["sun"])
                )
            offset = self.duration(item.get("offset", 0), f"{path}.offset", signed=True)
            return SunTrigger(event=str(item["sun"]), offset_s=offset)
        if "event" in item:
            self.no_extra(item, {"event", "device", "data"}, path)
            if item["event"] not in _EVENT_KINDS:
                raise self.fail(
                    "automation.bad_event",
                    f"{path}.event",
                    "unknown event",
                    value=str(item["event"]),
                    allowed=", ".join(sorted(_EVENT_KINDS)),
                )
            device = self.device(item["device"], f"{path}.device").id if "device" in item else None
            return EventTrigger(
                kind=str(item["event"]), device=device, data=self.mapping(item.get("data", {}), path)
            )
        if "phrase" in item:
            self.no_extra(item, {"phrase", "language"}, path)
            return PhraseTrigger(
                phrase=self.texts(item["phrase"], f"{path}.phrase")["ko"],
                language=str(item.get("language", "ko")),
            )
        if "attribute" in item:
            self.no_extra(item, {"device", "attribute", "to", "from", "above", "below", "for"}, path)
            above, below = (
                self.number(item.get("above"), f"{path}.above"),
                self.number(item.get("below"), f"{path}.below"),
            )
            return StateTrigger(
                device=self.device(item.get("device"), f"{path}.device").id,
                attribute=self.attribute(item, path),
                to=self.values(item["to"]) if "to" in item else (),
                from_=self.values(item["from"]) if "from" in item else (),
                above=above,
                below=below,
                for_s=self.duration(item.get("for", 0), f"{path}.for"),
            )
        raise self.fail("automation.bad_trigger", path, "unknown trigger")

    def condition(self, value: Any, path: str, depth: int = 0) -> Condition:  # noqa: PLR0911
        self.spend(path)
        if depth > MAX_DEPTH:
            raise self.fail("automation.too_deep", path, "nested too deeply", limit=MAX_DEPTH)
        item = self.mapping(value, path)
        for key, kind in (("and", AllOf), ("or", AnyOf)):
            if key in item:
                parts = self.sequence(item[key], f"{path}.{key}")
                return kind(
                    conditions=tuple(
                        self.condition(c, f"{path}.{key}[{i}]", depth + 1) for i, c in enumerate(parts)
                    )
                )
        if "not" in item:
            return Not(condition=self.condition(item["not"], f"{path}.not", depth + 1))
        if "time" in item:
            window = self.mapping(item["time"], f"{path}.time")
            self.no_extra(window, {"after", "before"}, f"{path}.time")
            return TimeCondition(
                after=self.clock(window["after"], f"{path}.time.after") if "after" in window else None,
                before=self.clock(window["before"], f"{path}.time.before") if "before" in window else None,
            )
        if "weekday" in item:
            return WeekdayCondition(days=self.days(item["weekday"], f"{path}.weekday"))
        if "holiday" in item:
            self.no_extra(item, {"holiday", "country"}, path)
            return HolidayCondition(
                is_holiday=self.boolean(item["holiday"], f"{path}.holiday"),
                country=str(item.get("country", "KR")),
            )
        if "attribute" in item:
            device = self.device(item.get("device"), f"{path}.device").id
            attribute = self.attribute(item, path)
            if "is" in item:
                self.no_extra(item, {"device", "attribute", "is"}, path)
                return StateCondition(device=device, attribute=attribute, equals=self.values(item["is"]))
            self.no_extra(item, {"device", "attribute", "above", "below"}, path)
            above, below = (
                self.number(item.get("above"), f"{path}.above"),
                self.number(item.get("below"), f"{path}.below"),
            )
            if above is None and below is None:
                raise self.fail("automation.bad_condition", path, "give is, above or below")
            return NumericCondition(device=device, attribute=attribute, above=above, below=below)
        raise self.fail("automation.bad_condition", path, "unknown condition")

    def action(self, value: Any, path: str) -> Sequence[Action]:  # noqa: PLR0911
        self.spend(path)
        item = self.mapping(value, path)
        if "command" in item:
            return self.commands(item, path)
        if len(item) != 1 and "wait" not in item and set(item) != {"notify", "to"}:
            raise self.fail("automation.bad_action", path, "one action per step")
        if "scene" in item:
            return [SceneAction(scene=str(item["scene"]))]
        if "run" in item:
            return [RunAction(routine=str(item["run"]))]
        if "delay" in item:
            return [DelayAction(seconds=self.duration(item["delay"], f"{path}.delay"))]
        if "notify" in item:
            return [
                NotifyAction(text=self.texts(item["notify"], f"{path}.notify"), to=self.notifiers(item, path))
            ]
        if "say" in item:
            return [SayAction(text=self.texts(item["say"], f"{path}.say"))]
        if "wait" in item:
            wait = self.mapping(item["wait"], f"{path}.wait")
            self.no_extra(
                wait,
                {"device", "attribute", "to", "above", "below", "timeout", "continue_on_timeout"},
                f"{path}.wait",
            )
            to = self.values(wait["to"]) if "to" in wait else ()
            above = self.number(wait.get("above"), f"{path}.wait.above")
            below = self.number(wait.get("below"), f"{path}.wait.below")
            if not to and above is None and below is None:
                raise self.fail("automation.bad_condition", f"{path}.wait", "give to, above or below")
            return [
                WaitAction(
                    device=self.device(wait.get("device"), f"{path}.wait.device").id,
                    attribute=self.attribute(wait, f"{path}.wait"),
                    to=to,
                    above=above,
                    below=below,
                    timeout_s=self.duration(wait.get("timeout", 600), f"{path}.wait.timeout"),
                    continue_on_timeout=self.boolean(wait.get("continue_on_timeout", True), f"{path}.wait"),
                )
            ]
        raise self.fail("automation.bad_action", path, "unknown action")
