"""State payloads in and command payloads out, per Home Assistant's component schemas."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from oneteam.integrations.mqtt.convert import parse_discovery
from oneteam.integrations.mqtt.entity import Entity
from oneteam.integrations.mqtt.payloads import PayloadError, plan_command, readers
from oneteam.model import Command, Direction


def _entity(component: str, config: Mapping[str, object]) -> Entity:
    return parse_discovery(
        f"homeassistant/{component}/n/o/config", json.dumps(config).encode(), "homeassistant"
    )


def _read(entity: Entity, topic: str, payload: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    for t, reader in readers(entity):
        if t == topic:
            out.update(reader(payload))
    return out


JSON_LIGHT = {
    "unique_id": "l1",
    "schema": "json",
    "brightness": True,
    "state_topic": "l/s",
    "command_topic": "l/c",
}


def test_json_light_brightness_0_255_is_reported_as_percent() -> None:
    light = _entity("light", JSON_LIGHT)
    assert _read(light, "l/s", b'{"state": "ON", "brightness": 255}') == {"power": True, "brightness": 100}
    assert _read(light, "l/s", b'{"state": "OFF", "brightness": 64}') == {"power": False, "brightness": 25}


def test_set_brightness_percent_goes_out_on_the_devices_scale() -> None:
    light = _entity("light", JSON_LIGHT)
    plan = plan_command(light, Command(device_id="l1", name="set_brightness", value=40), {})
    assert plan.messages == (("l/c", json.dumps({"state": "ON", "brightness": 102})),)
    assert plan.expected == {"brightness": 40}


def test_brightness_scale_from_the_config_is_used() -> None:
    light = _entity("light", {**JSON_LIGHT, "brightness_scale": 100})
    plan = plan_command(light, Command(device_id="l1", name="set_brightness", value=40), {})
    assert json.loads(plan.messages[0][1])["brightness"] == 40


def test_adjust_brightness_moves_from_the_last_known_state_and_stays_in_range() -> None:
    light = _entity("light", JSON_LIGHT)
    up = plan_command(
        light, Command(device_id="l1", name="adjust_brightness", direction=Direction.UP), {"brightness": 90}
    )
    assert up.expected == {"brightness": 100}
    down = plan_command(
        light,
        Command(device_id="l1", name="adjust_brightness", value=30, direction=Direction.DOWN),
        {"brightness": 50},
    )
    assert down.expected == {"brightness": 20}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"state": "ON", "brightness": "bright"}', "number"),
        (b'{"state": "ON", "brightness": 300}', "0–255"),
        (b'{"state": "MAYBE"}', "'ON' or 'OFF'"),
        (b"[]", "JSON object"),
        (b"not json", "not JSON"),
        (b'{"state": "ON", "brightness": ' + b"1" * 20_000 + b"}", "larger than"),
    ],
)
def test_state_payloads_of_the_wrong_type_raise_payload_error(payload: bytes, reason: str) -> None:
    light = _entity("light", JSON_LIGHT)
    with pytest.raises(PayloadError, match=reason):
        _read(light, "l/s", payload)


def test_switch_uses_its_own_payloads() -> None:
    switch = _entity(
        "switch",
        {
            "unique_id": "s1",
            "state_topic": "s/s",
            "command_topic": "s/c",
            "payload_on": "1",
            "payload_off": "0",
        },
    )
    assert _read(switch, "s/s", b"1") == {"power": True}
    assert plan_command(switch, Command(device_id="s1", name="turn_off"), {}).messages == (("s/c", "0"),)


CLIMATE = {
    "unique_id": "ac1",
    "mode_state_topic": "ac/state",
    "mode_state_template": "{{ value_json.mode }}",
    "mode_command_topic": "ac/mode",
    "temperature_state_topic": "ac/state",
    "temperature_state_template": "{{ value_json.target }}",
    "temperature_command_topic": "ac/temp",
    "modes": ["off", "cool", "fan_only"],
}


def test_climate_off_mode_means_power_off_and_fan_only_is_fan() -> None:
    ac = _entity("climate", CLIMATE)
    assert _read(ac, "ac/state", b'{"mode": "off", "target": 23.5}') == {"power": False, "temperature": 23.5}
    assert _read(ac, "ac/state", b'{"mode": "fan_only", "target": 23}') == {
        "power": True,
        "mode": "fan",
        "temperature": 23,
    }


def test_climate_turn_on_without_power_topic_restores_the_last_mode() -> None:
    ac = _entity("climate", CLIMATE)
    plan = plan_command(ac, Command(device_id="ac1", name="turn_on"), {"mode": "fan"})
    assert plan.messages == (("ac/mode", "fan_only"),)
    assert plan.expected == {"power": True}


def test_set_mode_and_temperature_use_their_topics() -> None:
    ac = _entity("climate", CLIMATE)
    assert plan_command(ac, Command(device_id="ac1", name="set_mode", value="fan"), {}).messages == (
        ("ac/mode", "fan_only"),
    )
    assert plan_command(ac, Command(device_id="ac1", name="set_temperature", value=22.5), {}).messages == (
        ("ac/temp", "22.5"),
    )


def test_fan_speeds_are_percentages_and_auto_is_a_preset() -> None:
    fan = _entity(
        "fan",
        {
            "unique_id": "f1",
            "command_topic": "f/c",
            "percentage_command_topic": "f/pct",
            "percentage_state_topic": "f/pct/state",
            "preset_mode_command_topic": "f/preset",
            "preset_modes": ["auto", "sleep"],
        },
    )
    assert fan.device.spec.fan_speeds == ("low", "medium", "high", "auto")
    assert plan_command(fan, Command(device_id="f1", name="set_fan_speed", value="high"), {}).messages == (
        ("f/pct", "100"),
    )
    assert plan_command(fan, Command(device_id="f1", name="set_fan_speed", value="auto"), {}).messages == (
        ("f/preset", "auto"),
    )
    assert _read(fan, "f/pct/state", b"50") == {"fan_speed": "medium"}
    assert _read(fan, "f/pct/state", b"0") == {"power": False}


def test_vacuum_commands_use_the_configured_payloads_and_state_json() -> None:
    vacuum = _entity(
        "vacuum",
        {"unique_id": "v1", "command_topic": "v/c", "state_topic": "v/s", "payload_return_to_base": "dock"},
    )
    assert plan_command(vacuum, Command(device_id="v1", name="return_to_base"), {}).messages == (
        ("v/c", "dock"),
    )
    assert _read(vacuum, "v/s", b'{"state": "cleaning", "battery_level": 61}') == {
        "run_state": "cleaning",
        "battery": 61,
    }


def test_sensor_numbers_are_numbers_and_text_stays_text() -> None:
    sensor = _entity("sensor", {"unique_id": "t1", "state_topic": "t/s"})
    assert _read(sensor, "t/s", b"21.50") == {"value": 21.5}
    assert _read(sensor, "t/s", b"unknown") == {"value": "unknown"}
