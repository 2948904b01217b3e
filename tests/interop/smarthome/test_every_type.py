"""Every device type the hub knows, one simulated device each, through the partner door on a real
server: SYNC and QUERY validate against the public schemas, and every command of every trait a
device claims is executed and answered per schema with its trait's states. A type added to the
model without a partner mapping, or a trait without a command here, fails this test."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from oneteam.hub import parse_home
from oneteam.model import DeviceType, Home
from tests.interop.smarthome import test_fulfillment as demo_checks
from tests.interop.smarthome.conftest import (
    Linked,
    execute_body,
    intent,
    load_schema,
)
from tests.interop.smarthome.test_challenge import _execute_schema
from tests.interop.smarthome.test_fulfillment import COMMAND_TRAITS, _trait_schema
from tests.interop.smarthome.test_safety_devices import check_documented_traits

HOME = "rooms:\n  home: {names: [집, home]}\ndevices:\n" + "".join(
    f"  - {{id: {t.value}, type: {t.value}, room: home, names: [{t.value.replace('_', ' ')}]}}\n"
    for t in DeviceType
)
# Traits that only report (no command to send).
QUERY_ONLY = {"RunCycle", "SensorState", "HumiditySetting"}


Steps = list[tuple[str, dict[str, Any]]]


def _modes(a: dict[str, Any]) -> Steps:
    mode = a["availableModes"][0]
    return [("SetModes", {"updateModeSettings": {mode["name"]: mode["settings"][-1]["setting_name"]}})]


def _start_stop(a: dict[str, Any]) -> Steps:
    pause = [("PauseUnPause", {"pause": True}), ("PauseUnPause", {"pause": False})]
    return [("StartStop", {"start": True}), *(pause if a.get("pausable") else [])]


def _temperature(a: dict[str, Any]) -> Steps:
    if a.get("queryOnlyTemperatureControl"):
        return []
    limits = a["temperatureRange"]
    return [
        (
            "SetTemperature",
            {"temperature": round((limits["minThresholdCelsius"] + limits["maxThresholdCelsius"]) / 2)},
        )
    ]


# A valid EXECUTE (command, params) for each command of a trait, from the device's SYNC attributes.
COMMANDS: dict[str, Any] = {
    "OnOff": lambda a: [("OnOff", {"on": True})],
    "TemperatureSetting": lambda a: [
        ("ThermostatTemperatureSetpoint", {"thermostatTemperatureSetpoint": 22}),
        ("ThermostatSetMode", {"thermostatMode": a["availableThermostatModes"][2]}),
    ],
    "FanSpeed": lambda a: [("SetFanSpeed", {"fanSpeed": a["availableFanSpeeds"]["speeds"][0]["speed_name"]})],
    "Brightness": lambda a: [("BrightnessAbsolute", {"brightness": 40})],
    "Volume": lambda a: [("setVolume", {"volumeLevel": 12}), ("volumeRelative", {"relativeSteps": -2})],
    "Channel": lambda a: [
        ("selectChannel", {"channelNumber": "9"}),
        ("relativeChannel", {"relativeChannelChange": 1}),
    ],
    "Modes": _modes,
    "StartStop": _start_stop,
    "Dock": lambda a: [("Dock", {})],
    "TemperatureControl": _temperature,
    "LockUnlock": lambda a: [("LockUnlock", {"lock": False}), ("LockUnlock", {"lock": True})],
    "OpenClose": lambda a: [("OpenClose", {"openPercent": 100}), ("OpenClose", {"openPercent": 0})],
    **{trait: lambda a: [] for trait in QUERY_ONLY},
}
# Settings first, then the cycle: a running washer refuses a course change.
LAST = {"StartStop": 1, "Dock": 2}


@pytest.fixture
def partner_home() -> Home:
    return parse_home(HOME)


async def test_every_type_answers_sync_query_and_every_trait_command_per_schema(linked: Linked) -> None:
    await demo_checks.test_sync_devices_validate_against_type_trait_and_attribute_schemas(linked)
    await demo_checks.test_query_states_validate_against_trait_state_schemas(linked)
    sync = await linked.post(intent("SYNC"))
    devices = {d["id"]: d for d in sync["payload"]["devices"]}
    assert set(devices) == {t.value for t in DeviceType}
    commands = set(load_schema("platform/commands.schema.json")["enum"])
    executed: dict[str, list[str]] = {}
    for device_id, device in devices.items():
        assert device["traits"], f"{device_id} claims no trait"
        executed[device_id] = []
        traits = sorted((t.rsplit(".", 1)[1] for t in device["traits"]), key=lambda t: LAST.get(t, 0))
        for trait in traits:
            assert trait in COMMANDS, f"no command for trait {trait}: add it here"
            for command, params in COMMANDS[trait](device["attributes"]):
                if command in COMMAND_TRAITS:
                    jsonschema.Draft7Validator(load_schema(COMMAND_TRAITS[command][1])).validate(params)
                full = f"action.devices.commands.{command}"
                assert full in commands or command == "PauseUnPause", full  # (the washer example's spelling)
                body = execute_body([device_id], command, params)
                # A lock, a valve and an oven confirm; the ack is ignored by devices that do not ask.
                body["inputs"][0]["payload"]["commands"][0]["execution"][0]["challenge"] = {"ack": True}
                answer = await linked.post(body)
                jsonschema.Draft7Validator(_execute_schema()).validate(answer)
                [result] = answer["payload"]["commands"]
                assert result["status"] == "SUCCESS", (device_id, command, params, result)
                for claimed in device["traits"]:
                    schema = _trait_schema(claimed.rsplit(".", 1)[1], "states")
                    if schema:
                        jsonschema.Draft7Validator(load_schema(schema)).validate(result["states"])
                check_documented_traits(device, result["states"])
                executed[device_id].append(command)
    # Every type that can be commanded was; only the sensor is read-only.
    assert [d for d, done in executed.items() if not done] == ["sensor"]
