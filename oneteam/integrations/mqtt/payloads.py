"""State payloads in and command payloads out, per Home Assistant MQTT component schema.

In: each state topic of an entity gets a `Reader` that turns the payload into our shared state
attributes (`power`, `brightness` in %, `mode`, `temperature`, `fan_speed`, `run_state`, ...).
Out: `plan_command` turns a validated `Command` into the messages to publish and the state we
expect the device to report back once it obeyed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from oneteam.integrations.mqtt.const import HA_TO_MODE, MAX_STATE_BYTES, MODE_TO_HA, SPEED_PERCENT
from oneteam.integrations.mqtt.entity import Entity, Template
from oneteam.model import Command, CommandName, Direction, InvalidValue, StateValue
from oneteam.model.command import DEFAULT_STEPS

Reader = Callable[[bytes], dict[str, StateValue]]


class PayloadError(ValueError):
    """A state payload of the wrong shape or type; the message says what was expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to publish for one command, and the state that confirms the device obeyed."""

    messages: tuple[tuple[str, str], ...]
    expected: dict[str, StateValue] | None
    """Attributes the device should report; None: any report from it confirms (vacuum moves on)."""


# -- reading ----------------------------------------------------------------------------------


def _value(payload: bytes, template: Template | None) -> object:
    if len(payload) > MAX_STATE_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes is larger than {MAX_STATE_BYTES}")
    try:
        if template is None or template.path is None:
            return payload.decode()
        value: object = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"payload is not {'JSON' if template else 'UTF-8 text'}") from exc
    for key in template.path:
        if not isinstance(value, dict) or key not in value:
            raise PayloadError(f"payload has no {'.'.join(template.path)}")
        value = value[key]
    return value


def availability_value(payload: bytes, template: Template | None) -> object:
    """The value an availability payload carries (through its template, if the config gave one)."""
    return _value(payload, template)


def _json_object(payload: bytes) -> dict[str, object]:
    if len(payload) > MAX_STATE_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes is larger than {MAX_STATE_BYTES}")
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("payload is not JSON") from exc
    if not isinstance(value, dict):
        raise PayloadError("payload is not a JSON object")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise PayloadError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise PayloadError(f"expected a number, got {value[:40]!r}") from None
    else:
        raise PayloadError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise PayloadError("expected a finite number")
    return number


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else round(number, 2)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(f"expected text, got {type(value).__name__}")


def _power(entity: Entity, value: object) -> bool:
    text = _text(value)
    if text == entity.state_on:
        return True
    if text == entity.state_off:
        return False
    raise PayloadError(f"expected {entity.state_on!r} or {entity.state_off!r}, got {text[:40]!r}")


def _percent_of(entity: Entity, raw: float, scale: int) -> int:
    if raw < 0 or raw > scale:
        raise PayloadError(f"expected 0–{scale}, got {_plain(raw)}")
    return round(raw * 100 / scale)


def _speed(pct: int) -> str:
    if pct <= SPEED_PERCENT["low"]:
        return "low"
    return "medium" if pct <= SPEED_PERCENT["medium"] else "high"


def readers(entity: Entity) -> list[tuple[str, Reader]]:
    """(topic, reader) for every state topic of `entity`."""
    out: list[tuple[str, Reader]] = []
    tpl = entity.templates.get

    def add(role: str, convert: Callable[[object], dict[str, StateValue]]) -> None:
        topic = entity.topic(role)
        if topic is not None:
            template = tpl(role)
            out.append((topic, lambda payload: convert(_value(payload, template))))

    component = entity.component
    if component in ("switch", "fan") or (component == "light" and not entity.is_json_schema):
        add("state_topic", lambda v: {"power": _power(entity, v)})
    if component == "light" and entity.is_json_schema and entity.topic("state_topic"):
        out.append((entity.topics["state_topic"], lambda p: _json_light(entity, _json_object(p))))
    if component == "light":
        add(
            "brightness_state_topic",
            lambda v: {"brightness": _percent_of(entity, _number(v), entity.brightness_scale)},
        )
    if component == "climate":
        add("mode_state_topic", lambda v: _climate_mode(_text(v)))
        add("temperature_state_topic", lambda v: {"temperature": _plain(_number(v))})
        add("current_temperature_topic", lambda v: {"current_temperature": _plain(_number(v))})
        add("fan_mode_state_topic", lambda v: {"fan_speed": _text(v)})
    if component == "fan":
        add("percentage_state_topic", lambda v: _fan_percentage(entity, _number(v)))
        add("preset_mode_state_topic", lambda v: {"mode": _text(v)})
    if component == "vacuum":
        add("state_topic", _vacuum)
    if component == "sensor":
        add("state_topic", _sensor)
    return out


def _json_light(entity: Entity, data: Mapping[str, object]) -> dict[str, StateValue]:
    changes: dict[str, StateValue] = {}
    if "state" in data:
        changes["power"] = _power(entity, data["state"])
    if data.get("brightness") is not None:
        changes["brightness"] = _percent_of(entity, _number(data["brightness"]), entity.brightness_scale)
    if not changes:
        raise PayloadError("JSON light state has neither state nor brightness")
    return changes


def _climate_mode(mode: str) -> dict[str, StateValue]:
    if mode == "off":
        return {"power": False}
    if mode not in HA_TO_MODE:
        raise PayloadError(f"unknown climate mode {mode[:40]!r}")
    return {"power": True, "mode": HA_TO_MODE[mode]}


def _fan_percentage(entity: Entity, raw: float) -> dict[str, StateValue]:
    pct = _percent_of(entity, raw, entity.speed_range_max)
    return {"power": False} if pct == 0 else {"fan_speed": _speed(pct)}


def _vacuum(value: object) -> dict[str, StateValue]:
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PayloadError("vacuum state is not JSON") from exc
    if isinstance(value, str):
        return {"run_state": value[:40]}
    if not isinstance(value, dict):
        raise PayloadError("vacuum state is neither text nor a JSON object")
    changes: dict[str, StateValue] = {}
    if "state" in value:
        changes["run_state"] = _text(value["state"])[:40]
    if value.get("battery_level") is not None:
        changes["battery"] = _plain(_number(value["battery_level"]))
    return changes


def _sensor(value: object) -> dict[str, StateValue]:
    if isinstance(value, bool):
        return {"value": value}
    try:
        return {"value": _plain(_number(value))}
    except PayloadError:
        return {"value": _text(value)[:255]}


# -- commanding -------------------------------------------------------------------------------


def plan_command(entity: Entity, command: Command, state: Mapping[str, StateValue]) -> Plan:  # noqa: PLR0911
    """The messages for a validated command; `state` resolves relative ones (`adjust_*`, turn_on)."""
    name = CommandName(command.name)
    if name is CommandName.ADJUST_BRIGHTNESS:
        target = _adjusted(command, state.get("brightness"), 0, 100)
        name, command = (
            CommandName.SET_BRIGHTNESS,
            Command(device_id=command.device_id, name="set_brightness", value=target),
        )
    if name is CommandName.ADJUST_TEMPERATURE:
        limit = entity.device.spec.temperature_range
        low, high = (limit.low, limit.high) if limit else (16.0, 30.0)
        target = _adjusted(command, state.get("temperature"), low, high)
        name, command = (
            CommandName.SET_TEMPERATURE,
            Command(device_id=command.device_id, name="set_temperature", value=target),
        )
    component = entity.component
    if component == "vacuum":
        payload = entity.vacuum_payloads[name.value]
        return Plan(messages=((entity.topics["command_topic"], payload),), expected=None)
    if name in (CommandName.TURN_ON, CommandName.TURN_OFF):
        return _power_plan(entity, name is CommandName.TURN_ON, state)
    if name is CommandName.SET_BRIGHTNESS:
        return _brightness_plan(entity, _num(command))
    if name is CommandName.SET_TEMPERATURE:
        value = _plain(_num(command))
        return Plan(
            messages=((entity.topics["temperature_command_topic"], str(value)),),
            expected={"temperature": value},
        )
    if name is CommandName.SET_MODE:
        mode = str(command.value)
        if component == "climate":
            return Plan(
                messages=((entity.topics["mode_command_topic"], MODE_TO_HA[mode]),), expected={"mode": mode}
            )
        return Plan(messages=((entity.topics["preset_mode_command_topic"], mode),), expected={"mode": mode})
    if name is CommandName.SET_FAN_SPEED:
        return _fan_speed_plan(entity, str(command.value))
    raise InvalidValue("error.command_not_supported", f"{name} is not carried over MQTT", command=name.value)


def _num(command: Command) -> float:
    if isinstance(command.value, bool) or not isinstance(command.value, int | float):
        raise InvalidValue("error.number_required", f"{command.name} needs a number", command=command.name)
    return float(command.value)


def _adjusted(command: Command, current: StateValue, low: float, high: float) -> int | float:
    step = float(command.value) if isinstance(command.value, int | float) else DEFAULT_STEPS[command.name]
    base = float(current) if isinstance(current, int | float) and not isinstance(current, bool) else low
    moved = base + step if command.direction is Direction.UP else base - step
    return _plain(min(high, max(low, moved)))


def _power_plan(entity: Entity, is_on: bool, state: Mapping[str, StateValue]) -> Plan:
    payload = entity.payload_on if is_on else entity.payload_off
    if entity.component == "light" and entity.is_json_schema:
        payload = json.dumps({"state": payload})
    if entity.component == "climate" and "power_command_topic" not in entity.topics:
        # HA climate without a power topic: off is a mode, and on means back to the last mode.
        last = state.get("mode")
        modes = entity.device.spec.modes
        mode = last if isinstance(last, str) and last in modes else (modes[0] if modes else "auto")
        ha_mode = MODE_TO_HA.get(mode, "auto") if is_on else "off"
        return Plan(messages=((entity.topics["mode_command_topic"], ha_mode),), expected={"power": is_on})
    topic = entity.topics.get("power_command_topic") or entity.topics["command_topic"]
    return Plan(messages=((topic, payload),), expected={"power": is_on})


def _brightness_plan(entity: Entity, pct: float) -> Plan:
    raw = round(pct * entity.brightness_scale / 100)
    # What the device will report back, after its own rounding to the brightness scale.
    echoed = round(raw * 100 / entity.brightness_scale)
    if entity.is_json_schema:
        payload = json.dumps({"state": entity.payload_on, "brightness": raw})
        return Plan(messages=((entity.topics["command_topic"], payload),), expected={"brightness": echoed})
    return Plan(
        messages=((entity.topics["brightness_command_topic"], str(raw)),), expected={"brightness": echoed}
    )


def _fan_speed_plan(entity: Entity, speed: str) -> Plan:
    if entity.component == "climate":
        return Plan(
            messages=((entity.topics["fan_mode_command_topic"], speed),), expected={"fan_speed": speed}
        )
    if speed == "auto":
        return Plan(
            messages=((entity.topics["preset_mode_command_topic"], "auto"),), expected={"mode": "auto"}
        )
    raw = round(SPEED_PERCENT[speed] * entity.speed_range_max / 100)
    return Plan(
        messages=((entity.topics["percentage_command_topic"], str(raw)),), expected={"fan_speed": speed}
    )
