"""The untrusted side of Home Assistant MQTT discovery: abbreviated keys and `~` expanded, then the
keys we read validated once by pydantic (unknown keys are ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oneteam.integrations.mqtt.const import (
    ABBREVIATIONS,
    DEVICE_ABBREVIATIONS,
    PAYLOAD_OFFLINE,
    PAYLOAD_ONLINE,
)

TOPIC_FIELDS = (  # the topic keys a config may give, by role
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
TEMPLATE_ROLES = {  # state topic role → the template keys that read it, first given wins
    "state_topic": ("state_value_template", "value_template"),
    "brightness_state_topic": ("brightness_value_template",),
    "mode_state_topic": ("mode_state_template",),
    "temperature_state_topic": ("temperature_state_template",),
    "current_temperature_topic": ("current_temperature_template",),
    "fan_mode_state_topic": ("fan_mode_state_template",),
    "percentage_state_topic": ("percentage_value_template",),
    "preset_mode_state_topic": ("preset_mode_value_template",),
}


class DeviceInfo(BaseModel):
    """The config's `device` block."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    identifiers: list[str] | str | None = None
    name: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    suggested_area: str | None = None


class AvailabilityItem(BaseModel):
    """One entry of the config's `availability` list."""

    model_config = ConfigDict(extra="ignore")

    topic: str
    payload_available: str = PAYLOAD_ONLINE
    payload_not_available: str = PAYLOAD_OFFLINE
    value_template: str | None = None


class DiscoveryConfig(BaseModel):
    """The keys of a Home Assistant discovery config that we read; the rest are ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    unique_id: str | None = None
    object_id: str | None = None
    name: str | None = None
    device: DeviceInfo | None = None
    availability: list[AvailabilityItem] | None = None
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
