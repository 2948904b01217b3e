"""What a usable discovery config becomes: the frozen `Entity` (the hub device and how to read and
drive it over MQTT), its templates and availability topics, and the checks every topic, id and
template passes; `DiscoveryError` says why one does not."""

from __future__ import annotations

import re
from dataclasses import dataclass

from oneteam.integrations.mqtt.const import MAX_ID_LENGTH, PAYLOAD_OFFLINE, PAYLOAD_ONLINE
from oneteam.model import Device

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
