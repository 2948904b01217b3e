"""Home Assistant MQTT discovery configs → our `Device` plus the topics and payloads that drive it.

Untrusted JSON is validated once (discovery_config.py); everything after this module works with the
frozen `Entity` (entity.py). A config we cannot use raises `DiscoveryError` with the reason, never
anything else.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from oneteam.integrations.mqtt.const import (
    COMPONENT_TYPES,
    DOMAIN,
    HA_TO_MODE,
    MAX_CONFIG_BYTES,
    SPEED_PERCENT,
)
from oneteam.integrations.mqtt.discovery_config import (
    TEMPLATE_ROLES,
    TOPIC_FIELDS,
    DeviceInfo,
    DiscoveryConfig,
    expand,
)
from oneteam.integrations.mqtt.entity import (
    Availability,
    DiscoveryError,
    Entity,
    Template,
    check_id,
    check_topic,
    parse_template,
)
from oneteam.model import Device, DeviceType, Range, Room, TypeSpec, builtin_type_specs

_SPECS = builtin_type_specs()


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
    topics = {k: v for k, v in expanded.items() if k in TOPIC_FIELDS}
    if any(not isinstance(v, str) for v in topics.values()):
        raise DiscoveryError("a topic in the config is not a string")
    try:
        config = DiscoveryConfig.model_validate({**expanded, "topics": topics})
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


def _device(device_id: str, component: str, config: DiscoveryConfig, rooms: dict[str, Room]) -> Device:
    info = config.device or DeviceInfo()
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


def _spec(device_type: DeviceType, config: DiscoveryConfig) -> TypeSpec:
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


def _entity(device: Device, component: str, config_topic: str, config: DiscoveryConfig) -> Entity:
    templates: dict[str, Template] = {}
    for role, keys in TEMPLATE_ROLES.items():
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
