"""Discovery configs → devices: the Home Assistant convention, abbreviations, and refusing bad input."""

from __future__ import annotations

import json

import pytest

from oneteam.integrations.mqtt.convert import parse_discovery
from oneteam.integrations.mqtt.entity import DiscoveryError
from oneteam.model import DeviceType, Range, Room

PREFIX = "homeassistant"


def _parse(component: str, config: dict[str, object], node: str | None = "node") -> object:
    topic = f"{PREFIX}/{component}/{node}/obj/config" if node else f"{PREFIX}/{component}/obj/config"
    return parse_discovery(topic, json.dumps(config).encode(), PREFIX)


def test_esphome_style_abbreviations_and_base_topic_are_expanded() -> None:
    # What ESPHome sends for a dimmable light: abbreviated keys and `~` as the base topic.
    config = {
        "~": "kitchen/light/ceiling",
        "name": "Ceiling",
        "uniq_id": "esp_kitchen_ceiling",
        "schema": "json",
        "brightness": True,
        "stat_t": "~/state",
        "cmd_t": "~/command",
        "avty_t": "kitchen/status",
        "dev": {"ids": "esp1", "name": "Kitchen", "mf": "espressif", "mdl": "esp32", "sa": "주방"},
    }
    entity = parse_discovery(
        f"{PREFIX}/light/kitchen/ceiling/config",
        json.dumps(config).encode(),
        PREFIX,
        {"kitchen": Room(id="kitchen", names=("주방",))},
    )
    assert entity.device.id == "esp_kitchen_ceiling"
    assert entity.device.type is DeviceType.LIGHT
    assert entity.device.room == "kitchen"
    assert entity.device.manufacturer == "espressif"
    assert entity.device.names[0] == "Kitchen Ceiling"
    assert entity.topics == {
        "state_topic": "kitchen/light/ceiling/state",
        "command_topic": "kitchen/light/ceiling/command",
    }
    assert entity.availability[0].topic == "kitchen/status"
    assert "set_brightness" in entity.device.spec.commands


@pytest.mark.parametrize(
    ("component", "device_type"),
    [
        ("light", DeviceType.LIGHT),
        ("switch", DeviceType.SWITCH),
        ("climate", DeviceType.AIR_CONDITIONER),
        ("fan", DeviceType.AIR_PURIFIER),
        ("vacuum", DeviceType.ROBOT_CLEANER),
        ("sensor", DeviceType.SENSOR),
    ],
)
def test_each_component_becomes_the_matching_device_type(component: str, device_type: DeviceType) -> None:
    entity = _parse(component, {"unique_id": "x1", "state_topic": "a/state", "command_topic": "a/set"})
    assert entity.device.type is device_type  # type: ignore[attr-defined]
    assert entity.device.integration == "mqtt"  # type: ignore[attr-defined]


def test_light_without_brightness_offers_only_on_and_off() -> None:
    entity = _parse("light", {"unique_id": "l1", "command_topic": "l/set", "state_topic": "l/state"})
    assert entity.device.spec.commands == ("turn_on", "turn_off")  # type: ignore[attr-defined]


def test_climate_modes_and_temperature_limits_come_from_the_config() -> None:
    entity = _parse(
        "climate",
        {
            "unique_id": "ac1",
            "mode_command_topic": "ac/mode/set",
            "temperature_command_topic": "ac/temp/set",
            "modes": ["off", "cool", "fan_only", "heat_cool"],
            "fan_modes": ["low", "high", "turbo"],
            "min_temp": 16,
            "max_temp": 31,
        },
    )
    spec = entity.device.spec  # type: ignore[attr-defined]
    assert spec.modes == ("cool", "fan")
    assert spec.fan_speeds == ("low", "high")
    assert spec.temperature_range == Range(16, 31)
    assert "set_fan_speed" not in spec.commands  # no fan_mode_command_topic


def test_id_falls_back_to_node_and_object() -> None:
    entity = _parse("switch", {"command_topic": "s/set"}, node="plug7")
    assert entity.device.id == "plug7_obj"  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad_id", ["a/b", "all#", "x+y", "with space", "tab\there"])
def test_ids_with_topic_characters_are_refused(bad_id: str) -> None:
    with pytest.raises(DiscoveryError, match="id"):
        _parse("switch", {"unique_id": bad_id, "command_topic": "s/set"})


@pytest.mark.parametrize("topic", ["#", "home/+/state", "a/#"])
def test_wildcard_topics_are_refused_so_a_device_cannot_subscribe_us_to_everything(topic: str) -> None:
    with pytest.raises(DiscoveryError, match="wildcards"):
        _parse("switch", {"unique_id": "s1", "state_topic": topic, "command_topic": "s/set"})


def test_unknown_component_is_refused_by_name() -> None:
    with pytest.raises(DiscoveryError, match="lock"):
        _parse("lock", {"unique_id": "l1", "command_topic": "l/set"})


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"\xff\xfe", "not JSON"),
        (json.dumps({"unique_id": "s", "command_topic": 5}).encode(), "not a string"),
        (json.dumps({"unique_id": "s", "brightness_scale": "huge"}).encode(), "brightness_scale"),
        (b"{" + b" " * 70_000 + b"}", "larger than"),
    ],
)
def test_malformed_configs_raise_discovery_error_with_the_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError, match=reason):
        parse_discovery(f"{PREFIX}/light/n/o/config", payload, PREFIX)


def test_topics_outside_the_convention_are_refused() -> None:
    with pytest.raises(DiscoveryError, match="prefix"):
        parse_discovery(f"{PREFIX}/light/a/b/c/config", b"{}", PREFIX)


def test_jinja_beyond_value_json_paths_is_refused_not_guessed() -> None:
    with pytest.raises(DiscoveryError, match="unsupported template"):
        _parse(
            "sensor",
            {"unique_id": "t1", "state_topic": "t/state", "value_template": "{% if value %}1{% endif %}"},
        )


def test_value_json_templates_become_paths() -> None:
    entity = _parse(
        "sensor",
        {
            "unique_id": "t1",
            "state_topic": "t/state",
            "value_template": "{{ value_json['air'].temp | float }}",
        },
    )
    assert entity.templates["state_topic"].path == ("air", "temp")  # type: ignore[attr-defined]
