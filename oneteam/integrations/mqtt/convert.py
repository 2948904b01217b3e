"""Home Assistant MQTT discovery configs → our `Device` plus the topics and payloads that drive it.

Untrusted JSON is validated here once (pydantic); everything after this module works with the
frozen `Entity`. A config we cannot use raises `DiscoveryError` with the reason, never anything else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oneteam.integrations.mqtt.const import (
    ABBREVIATIONS,
    COMPONENT_TYPES,
    DEVICE_ABBREVIATIONS,
    DOMAIN,
    HA_TO_MODE,
    MAX_CONFIG_BYTES,
    MAX_ID_LENGTH,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
    SPEED_PERCENT,
)
from oneteam.model import Device, DeviceType, Range, Room, TypeSpec, builtin_type_specs

_SPECS = builtin_type_specs()
_TOPIC_FIELDS = (
    "state_topic",
    "command_topic",
    "brightness_command_topic",
    "brightness_state_topic",
    "mode_command_topic",
    "mode_state_topic",
    "temperature_command_topic",
    "temperature_state_topic",
    "current_temperature_topic",
    "fan_mode_command_topic",
    "fan_mode_state_topic",
    "power_command_topic",
    "percentage_command_topic",
    "percentage_state_topic",
    "preset_mode_command_topic",
    "preset_mode_state_topic",
)
_TEMPLATE = re.compile(
    r"^\{\{\s*value(?:_json((?:\.\w+|\[\s*['\"]?[\w-]+['\"]?\s*\])+))?\s*(?:\|\s*\w+\s*)?\}\}$"
)
_PATH_PART = re.compile(r"\.(\w+)|\[\s*['\"]?([\w-]+)['\"]?\s*\]")
_BAD_ID_CHARS = re.compile(r"[/#+\s\x00-\x1f]")


class DiscoveryError(ValueError):
    """A discovery config that cannot become a device; the message says why."""


@dataclass(frozen=True, slots=True)
class Template:
    """A supported `value_template`: the whole payload, or one path into its JSON."""

    path: tuple[str, ...] | None
    """None: the payload itself (`{{ value }}`); else keys into the JSON (`{{ value_json.a.b }}`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Availability:
    """One availability topic and the payloads that mean online and offline."""

    topic: str
    online: str = PAYLOAD_ONLINE
    offline: str = PAYLOAD_OFFLINE
    template: Template | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """One discovered entity: the hub device it is, and how to read and drive it over MQTT."""

    device: Device
    component: str
    config_topic: str
    topics: dict[str, str]
    """Topic role (`state_topic`, `mode_command_topic`, ...) → topic, only those the config gave."""
    templates: dict[str, Template]
    """State topic role → how to pull the value out of its payload."""
    availability: tuple[Availability, ...] = ()
    payload_on: str = "ON"
    payload_off: str = "OFF"
    state_on: str = "ON"
    state_off: str = "OFF"
    is_json_schema: bool = False
    """A light using the JSON schema: one JSON state and command topic."""
    brightness_scale: int = 255
    speed_range_max: int = 100
    vacuum_payloads: dict[str, str]
    unit: str = ""

    def topic(self, role: str) -> str | None:
        """The topic for `role`, if the config gave one."""
        return self.topics.get(role)


class _DeviceInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    identifiers: list[str] | str | None = None
    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    suggested_area: str | None = None


class _AvailabilityItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    topic: str
    payload_available: str = PAYLOAD_ONLINE
    payload_not_available: str = PAYLOAD_OFFLINE
    value_template: str | None = None


class _Config(BaseModel):
    """The keys of a Home Assistant discovery config that we read; the rest are ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    unique_id: str | None = None
    object_id: str | None = None
    name: str | None = None
    device: _DeviceInfo | None = None
    availability: list[_AvailabilityItem] | None = None
    availability_topic: str | None = None
    payload_available: str = PAYLOAD_ONLINE
    payload_not_available: str = PAYLOAD_OFFLINE
    schema_: str = Field(default="default", alias="schema")
    payload_on: str = "ON"
    payload_off: str = "OFF"
    state_on: str | None = None
    state_off: str | None = None
    brightness: bool = False
    brightness_scale: int = Field(default=255, ge=1, le=65535)
    modes: list[str] | None = None
    fan_modes: list[str] | None = None
    preset_modes: list[str] | None = None
    min_temp: float | None = None
    max_temp: float | None = None
    speed_range_max: int = Field(default=100, ge=1, le=10000)
    payload_start: str = "start"
    payload_pause: str = "pause"
    payload_stop: str = "stop"
    payload_return_to_base: str = "return_to_base"
    supported_features: list[str] | None = None
    unit_of_measurement: str | None = None
    value_template: str | None = None
    state_value_template: str | None = None
    brightness_value_template: str | None = None
    mode_state_template: str | None = None
    temperature_state_template: str | None = None
    current_temperature_template: str | None = None
    fan_mode_state_template: str | None = None
    percentage_value_template: str | None = None
    preset_mode_value_template: str | None = None
    topics: dict[str, str] = Field(default_factory=dict)

    @field_validator("unique_id", "object_id", "name", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return None if value is None else str(value) if isinstance(value, int | float) else value


_TEMPLATE_ROLES = {
    "state_topic": ("state_value_template", "value_template"),
    "brightness_state_topic": ("brightness_value_template",),
    "mode_state_topic": ("mode_state_template",),
    "temperature_state_topic": ("temperature_state_template",),
    "current_temperature_topic": ("current_temperature_template",),
    "fan_mode_state_topic": ("fan_mode_state_template",),
    "percentage_state_topic": ("percentage_value_template",),
    "preset_mode_state_topic": ("preset_mode_value_template",),
}


def expand(raw: dict[str, Any]) -> dict[str, Any]:
    """Abbreviated keys (`stat_t`) → full keys, and `~` in topics → the config's base topic."""
    base = raw.get("~")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        full = ABBREVIATIONS.get(key, key)
        if full == "device" and isinstance(value, dict):
            out[full] = {DEVICE_ABBREVIATIONS.get(k, k): v for k, v in value.items()}
        elif full == "availability" and isinstance(value, list):
            out[full] = [_expand_availability(item, base) for item in value]
        elif isinstance(base, str) and isinstance(value, str) and full.endswith("_topic"):
            out[full] = _with_base(value, base)
        else:
            out[full] = value
    return out


def _expand_availability(item: object, base: object) -> object:
    if not isinstance(item, dict):
        return item
    expanded = {ABBREVIATIONS.get(k, k): v for k, v in item.items()}
    if isinstance(base, str) and isinstance(expanded.get("topic"), str):
        expanded["topic"] = _with_base(expanded["topic"], base)
    return expanded


def _with_base(topic: str, base: str) -> str:
    if topic.startswith("~"):
        return base + topic[1:]
    if topic.endswith("~"):
        return topic[:-1] + base
    return topic


def parse_template(text: str | None) -> Template | None:
    """`{{ value_json.temperature }}` → Template(("temperature",)); unsupported Jinja → DiscoveryError."""
    if text is None:
        return None
    match = _TEMPLATE.match(text.strip())
    if match is None:
        raise DiscoveryError(
            f"unsupported template {text!r} (only {{{{ value }}}} and {{{{ value_json.key }}}})"
        )
    if match.group(1) is None:
        return Template(path=None)
    return Template(path=tuple(a or b for a, b in _PATH_PART.findall(match.group(1))))


def check_topic(topic: str, role: str) -> str:
    """A topic we may subscribe or publish to: no wildcards, no NUL, not empty."""
    if not topic or "+" in topic or "#" in topic or "\x00" in topic or len(topic) > 1024:
        raise DiscoveryError(f"{role} {topic!r} is not a plain topic (wildcards are not allowed)")
    return topic


def check_id(value: str) -> str:
    """A device id we accept: no `/`, `#`, `+`, whitespace or control characters, at most 128 chars."""
    if not value or len(value) > MAX_ID_LENGTH or _BAD_ID_CHARS.search(value):
        raise DiscoveryError(f"id {value!r} has characters not allowed in an id (/ # + space)")
    return value


def parse_discovery(
    config_topic: str, payload: bytes, prefix: str, rooms: dict[str, Room] | None = None
) -> Entity:
    """One discovery message → an Entity; DiscoveryError says why a config is refused."""
    if len(payload) > MAX_CONFIG_BYTES:
        raise DiscoveryError(f"config of {len(payload)} bytes is larger than {MAX_CONFIG_BYTES}")
    rest = config_topic[len(prefix) + 1 :].split("/") if config_topic.startswith(prefix + "/") else []
    if len(rest) not in (3, 4) or rest[-1] != "config":
        raise DiscoveryError("topic is not <prefix>/<component>/[<node>/]<object>/config")
    component = rest[0]
    if component not in COMPONENT_TYPES:
        raise DiscoveryError(f"component {component!r} is not one we drive ({', '.join(COMPONENT_TYPES)})")
    try:
        raw = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiscoveryError(f"config is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise DiscoveryError("config is not a JSON object")
    expanded = expand(raw)
    topics = {k: v for k, v in expanded.items() if k in _TOPIC_FIELDS}
    if any(not isinstance(v, str) for v in topics.values()):
        raise DiscoveryError("a topic in the config is not a string")
    try:
        config = _Config.model_validate({**expanded, "topics": topics})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DiscoveryError(f"config field {where}: {first['msg']}") from exc
    for role, topic in config.topics.items():
        check_topic(topic, role)
    object_id = rest[-2]
    node_id = rest[1] if len(rest) == 4 else None
    device_id = check_id(config.unique_id or (f"{node_id}_{object_id}" if node_id else object_id))
    device = _device(device_id, component, config, rooms or {})
    return _entity(device, component, config_topic, config)


def _device(device_id: str, component: str, config: _Config, rooms: dict[str, Room]) -> Device:
    info = config.device or _DeviceInfo()
    names = [n for n in (config.name, info.name) if n]
    if config.name and info.name and not config.name.startswith(info.name):
        names.insert(0, f"{info.name} {config.name}")
    device_type = COMPONENT_TYPES[component]
    return Device(
        id=device_id,
        type=device_type,
        room=_room(info.suggested_area, rooms),
        spec=_spec(device_type, config),
        names=tuple(dict.fromkeys(names)),
        integration=DOMAIN,
        manufacturer=info.manufacturer or "",
        model=info.model or "",
    )


def _room(area: str | None, rooms: dict[str, Room]) -> str | None:
    if not area:
        return None
    wanted = area.strip().casefold()
    for room in rooms.values():
        if wanted == room.id.casefold() or wanted in (n.casefold() for n in room.names):
            return room.id
    return None


def _spec(device_type: DeviceType, config: _Config) -> TypeSpec:
    spec = _SPECS[device_type]
    t = config.topics
    has = {
        "turn_on": "command_topic" in t or "power_command_topic" in t or "mode_command_topic" in t,
        "set_brightness": "brightness_command_topic" in t or (config.schema_ == "json" and config.brightness),
        "set_temperature": "temperature_command_topic" in t,
        "set_mode": "mode_command_topic" in t or "preset_mode_command_topic" in t,
        "set_fan_speed": "fan_mode_command_topic" in t or "percentage_command_topic" in t,
        "start": "command_topic" in t,
    }
    needs = {
        "turn_off": "turn_on",
        "adjust_brightness": "set_brightness",
        "adjust_temperature": "set_temperature",
        "pause": "start",
        "stop": "start",
        "return_to_base": "start",
    }
    allowed_vacuum = set(config.supported_features or ("start", "pause", "stop", "return_home"))
    allowed_vacuum = {"return_to_base" if f == "return_home" else f for f in allowed_vacuum}
    commands = tuple(
        c
        for c in spec.commands
        if has.get(needs.get(c, c), False)
        and (device_type is not DeviceType.ROBOT_CLEANER or c in allowed_vacuum)
    )
    changes: dict[str, object] = {"commands": commands}
    if device_type is DeviceType.AIR_CONDITIONER:
        if config.modes is not None:
            changes["modes"] = tuple(HA_TO_MODE[m] for m in config.modes if m in HA_TO_MODE)
        if config.fan_modes is not None:
            changes["fan_speeds"] = tuple(f for f in config.fan_modes if f in spec.fan_speeds)
        if config.min_temp is not None or config.max_temp is not None:
            default = spec.temperature_range or Range(16, 30)
            changes["temperature_range"] = Range(
                config.min_temp or default.low, config.max_temp or default.high
            )
    elif device_type is DeviceType.AIR_PURIFIER:
        presets = config.preset_modes or []
        changes["modes"] = tuple(m for m in spec.modes if m in presets)
        speeds = list(SPEED_PERCENT) if "percentage_command_topic" in t else []
        changes["fan_speeds"] = tuple(
            s for s in spec.fan_speeds if s in speeds or (s == "auto" and s in presets)
        )
    return spec.with_overrides(**changes)


def _entity(device: Device, component: str, config_topic: str, config: _Config) -> Entity:
    templates: dict[str, Template] = {}
    for role, keys in _TEMPLATE_ROLES.items():
        if role in config.topics:
            text = next((getattr(config, k) for k in keys if getattr(config, k) is not None), None)
            template = parse_template(text)
            if template is not None:
                templates[role] = template
    availability: list[Availability] = []
    if config.availability_topic:
        availability.append(
            Availability(
                topic=check_topic(config.availability_topic, "availability_topic"),
                online=config.payload_available,
                offline=config.payload_not_available,
            )
        )
    for item in config.availability or ():
        availability.append(
            Availability(
                topic=check_topic(item.topic, "availability.topic"),
                online=item.payload_available,
                offline=item.payload_not_available,
                template=parse_template(item.value_template),
            )
        )
    return Entity(
        device=device,
        component=component,
        config_topic=config_topic,
        topics=dict(config.topics),
        templates=templates,
        availability=tuple(availability),
        payload_on=config.payload_on,
        payload_off=config.payload_off,
        state_on=config.state_on or config.payload_on,
        state_off=config.state_off or config.payload_off,
        is_json_schema=config.schema_ == "json",
        brightness_scale=config.brightness_scale,
        speed_range_max=config.speed_range_max,
        vacuum_payloads={
            "start": config.payload_start,
            "pause": config.payload_pause,
            "stop": config.payload_stop,
            "return_to_base": config.payload_return_to_base,
        },
        unit=config.unit_of_measurement or "",
    )
