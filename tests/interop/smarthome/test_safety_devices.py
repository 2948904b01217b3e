"""Door locks, gas valves and ovens at the partner door, and robot cleaners sent to one zone, on a
real server: SYNC / QUERY / EXECUTE answers validate against the public schemas, the dangerous
commands ask for confirmation by default (ack to lock, PIN to unlock when the home file gives one),
and a zone is cleaned alone or refused — never the whole home instead."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from oneteam.api.app import create_app
from oneteam.hub import HomeFileError, Hub, SqliteStorage, parse_home
from oneteam.hub.storage import EventQuery
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import DeviceType, EventKind, Home
from tests.interop.smarthome import test_fulfillment as demo_checks
from tests.interop.smarthome.conftest import (
    Linked,
    Serve,
    execute_body,
    intent,
    validate,
)
from tests.interop.smarthome.test_challenge import _execute_schema

PIN = "730519"
HOME = f"""
rooms:
  hall: {{names: [현관, hall]}}
  kitchen: {{names: [주방, kitchen]}}
  living: {{names: [거실, living room]}}
devices:
  - {{id: front_lock, type: door_lock, room: hall, names: [현관문, front door], confirm: pin, pin: "{PIN}"}}
  - {{id: back_lock, type: door_lock, room: hall, names: [뒷문, back door]}}
  - {{id: gas, type: gas_valve, room: kitchen, names: [가스 밸브, gas valve]}}
  - {{id: oven, type: oven, room: kitchen, names: [오븐, oven]}}
  - id: robot
    type: robot_cleaner
    room: living
    names: [로봇청소기, robot vacuum]
    zones: {{kitchen: [주방, kitchen], living: [거실, living room]}}
  - {{id: robot_plain, type: robot_cleaner, room: living, names: [작은 청소기, small robot]}}
"""

# The shared schema set has no files for these traits; their documented fields
# (developers.home.google.com/cloud-to-cloud/traits/<trait>), checked as strictly.
_TRAIT_STATES: dict[str, dict[str, Any]] = {
    "LockUnlock": {
        "type": "object",
        "properties": {"isLocked": {"type": "boolean"}, "isJammed": {"type": "boolean"}},
        "required": ["isLocked"],
    },
    "OpenClose": {
        "type": "object",
        "properties": {"openPercent": {"type": "number", "minimum": 0, "maximum": 100}},
        "required": ["openPercent"],
    },
    "TemperatureControl": {
        "type": "object",
        "properties": {
            "temperatureSetpointCelsius": {"type": "number"},
            "temperatureAmbientCelsius": {"type": "number"},
        },
        "required": ["temperatureSetpointCelsius"],
    },
}
_TRAIT_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "OpenClose": {
        "type": "object",
        "properties": {"discreteOnlyOpenClose": {"type": "boolean"}},
        "required": ["discreteOnlyOpenClose"],
    },
    "TemperatureControl": {
        "type": "object",
        "properties": {
            "temperatureRange": {
                "type": "object",
                "properties": {
                    "minThresholdCelsius": {"type": "number"},
                    "maxThresholdCelsius": {"type": "number"},
                },
                "required": ["minThresholdCelsius", "maxThresholdCelsius"],
            },
            "temperatureUnitForUX": {"enum": ["C", "F"]},
        },
        "required": ["temperatureRange", "temperatureUnitForUX"],
    },
}


def check_documented_traits(device: dict[str, Any], state: dict[str, Any] | None) -> None:
    """The traits the shared schema set lacks, against their documented fields."""
    for trait in device["traits"]:
        name = trait.rsplit(".", 1)[1]
        if name in _TRAIT_ATTRIBUTES:
            jsonschema.Draft7Validator(_TRAIT_ATTRIBUTES[name]).validate(device["attributes"])
        if state is not None and name in _TRAIT_STATES:
            jsonschema.Draft7Validator(_TRAIT_STATES[name]).validate(state)


@pytest.fixture
def partner_home() -> Home:
    return parse_home(HOME)


async def _run(
    linked: Linked, device_id: str, command: str, params: dict[str, Any], challenge: object = None
) -> dict[str, Any]:
    body = execute_body([device_id], command, params)
    if challenge is not None:
        body["inputs"][0]["payload"]["commands"][0]["execution"][0]["challenge"] = challenge
    answer = await linked.post(body)
    jsonschema.Draft7Validator(_execute_schema()).validate(answer)
    [result] = answer["payload"]["commands"]
    return dict(result)


async def test_sync_and_query_of_locks_valves_ovens_and_zoned_robots_validate(linked: Linked) -> None:
    await demo_checks.test_sync_devices_validate_against_type_trait_and_attribute_schemas(linked)
    await demo_checks.test_query_states_validate_against_trait_state_schemas(linked)
    sync = await linked.post(intent("SYNC"))
    devices = {d["id"]: d for d in sync["payload"]["devices"]}
    query = await linked.post(intent("QUERY", {"devices": [{"id": i} for i in devices]}))
    for device_id, device in devices.items():
        check_documented_traits(device, query["payload"]["devices"][device_id])
    t = "action.devices.traits."
    assert devices["front_lock"]["type"] == "action.devices.types.LOCK"
    assert devices["front_lock"]["traits"] == [t + "LockUnlock"]
    assert devices["gas"]["type"] == "action.devices.types.VALVE"
    assert devices["gas"]["traits"] == [t + "OpenClose"]
    assert devices["oven"]["type"] == "action.devices.types.OVEN"
    assert devices["oven"]["traits"] == [t + "OnOff", t + "TemperatureControl"]
    assert devices["oven"]["attributes"]["temperatureRange"] == {
        "minThresholdCelsius": 50,
        "maxThresholdCelsius": 250,
    }
    assert devices["robot"]["attributes"]["availableZones"] == ["주방", "거실"]
    assert "availableZones" not in devices["robot_plain"]["attributes"]
    states = query["payload"]["devices"]
    assert states["front_lock"]["isLocked"] is True
    assert states["gas"]["openPercent"] == 0
    assert states["oven"]["on"] is False


async def test_a_lock_asks_an_ack_to_lock_and_its_pin_to_unlock(linked: Linked) -> None:
    hub = linked.door.hub
    asked = await _run(linked, "front_lock", "LockUnlock", {"lock": False})
    assert asked["errorCode"] == "challengeNeeded" and asked["challengeNeeded"] == {"type": "pinNeeded"}
    ack_only = await _run(linked, "front_lock", "LockUnlock", {"lock": False}, {"ack": True})
    assert ack_only["challengeNeeded"] == {"type": "pinNeeded"}
    wrong = await _run(linked, "front_lock", "LockUnlock", {"lock": False}, {"pin": "000000"})
    assert wrong["challengeNeeded"] == {"type": "challengeFailedPinNeeded"}
    assert hub.state("front_lock").get("locked") is True
    done = await _run(linked, "front_lock", "LockUnlock", {"lock": False}, {"pin": PIN})
    assert done["status"] == "SUCCESS" and done["states"]["isLocked"] is False
    assert hub.state("front_lock").get("locked") is False
    # Locking it again: an acknowledgement, not the PIN.
    lock = await _run(linked, "front_lock", "LockUnlock", {"lock": True})
    assert lock["challengeNeeded"] == {"type": "ackNeeded"}
    locked = await _run(linked, "front_lock", "LockUnlock", {"lock": True}, {"ack": True})
    assert locked["status"] == "SUCCESS" and locked["states"]["isLocked"] is True


async def test_a_lock_the_home_file_says_nothing_about_still_asks_an_ack(linked: Linked) -> None:
    hub = linked.door.hub
    for lock in (False, True):
        asked = await _run(linked, "back_lock", "LockUnlock", {"lock": lock})
        assert asked["challengeNeeded"] == {"type": "ackNeeded"}
        done = await _run(linked, "back_lock", "LockUnlock", {"lock": lock}, {"ack": True})
        assert done["states"]["isLocked"] is lock
        assert hub.state("back_lock").get("locked") is lock


async def test_a_gas_valve_opens_only_acknowledged_and_always_closes(linked: Linked) -> None:
    hub = linked.door.hub
    asked = await _run(linked, "gas", "OpenClose", {"openPercent": 100})
    assert asked["challengeNeeded"] == {"type": "ackNeeded"}
    assert hub.state("gas").get("valve") == "closed"
    half = await _run(linked, "gas", "OpenClose", {"openPercent": 50}, {"ack": True})
    assert half["errorCode"] == "discreteOnlyOpenClose"
    opened = await _run(linked, "gas", "OpenClose", {"openPercent": 100}, {"ack": True})
    assert opened["status"] == "SUCCESS" and opened["states"]["openPercent"] == 100
    closed = await _run(linked, "gas", "OpenClose", {"openPercent": 0})  # the safe way: no question
    assert closed["status"] == "SUCCESS" and closed["states"]["openPercent"] == 0
    assert hub.state("gas").get("valve") == "closed"


async def test_an_oven_heats_only_when_switched_on_with_an_ack(linked: Linked) -> None:
    hub = linked.door.hub
    cold = await _run(linked, "oven", "SetTemperature", {"temperature": 200})
    assert cold["errorCode"] == "deviceTurnedOff"  # a setpoint never starts the oven
    assert hub.state("oven").get("power") is False
    asked = await _run(linked, "oven", "OnOff", {"on": True})
    assert asked["challengeNeeded"] == {"type": "ackNeeded"}
    on = await _run(linked, "oven", "OnOff", {"on": True}, {"ack": True})
    assert on["status"] == "SUCCESS" and on["states"]["on"] is True
    hot = await _run(linked, "oven", "SetTemperature", {"temperature": 200})
    assert hot["status"] == "SUCCESS" and hot["states"]["temperatureSetpointCelsius"] == 200
    too_hot = await _run(linked, "oven", "SetTemperature", {"temperature": 300})
    assert too_hot["errorCode"] == "valueOutOfRange"
    off = await _run(linked, "oven", "OnOff", {"on": False})
    assert off["status"] == "SUCCESS" and off["states"]["on"] is False


async def test_start_in_a_zone_cleans_that_zone_or_is_refused(linked: Linked) -> None:
    hub = linked.door.hub
    nowhere = await _run(linked, "robot", "StartStop", {"start": True, "zone": "garage"})
    assert nowhere["errorCode"] == "notSupported"
    two = await _run(linked, "robot", "StartStop", {"start": True, "multipleZones": ["주방", "거실"]})
    assert two["errorCode"] == "notSupported"
    plain = await _run(linked, "robot_plain", "StartStop", {"start": True, "zone": "주방"})
    assert plain["errorCode"] == "notSupported"
    assert hub.state("robot").get("run_state") == hub.state("robot_plain").get("run_state") == "docked"
    kitchen = await _run(linked, "robot", "StartStop", {"start": True, "zone": "kitchen"})
    assert kitchen["status"] == "SUCCESS", kitchen
    assert kitchen["states"]["isRunning"] is True and kitchen["states"]["activeZones"] == ["주방"]
    validate(kitchen["states"], "traits/startstop/startstop.states.schema.json")
    assert hub.state("robot").get("zone") == "kitchen"
    again = await _run(linked, "robot", "StartStop", {"start": True, "zone": "거실"})
    assert again["errorCode"] == "alreadyStarted"
    stop = await _run(linked, "robot", "StartStop", {"start": False, "zone": "주방"})
    assert stop["status"] == "SUCCESS" and stop["states"]["isRunning"] is False


async def test_zone_through_rest_and_the_robot_reports_the_zone_it_cleaned(tmp_path: Path) -> None:
    home = parse_home(HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    # 600 simulated seconds per real second: a one-room clean takes about a second.
    await hub.add_adapter(VirtualAdapter(home, time_scale=600.0, tick_s=0.05))
    async with hub:
        token = await hub.create_token("test")
        async with Serve(create_app(hub)) as api, httpx.AsyncClient(timeout=10) as client:
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}

            async def post(device: str, body: dict[str, Any]) -> httpx.Response:
                return await client.post(
                    f"{api.url}/api/devices/{device}/commands", json=body, headers=headers
                )

            unknown = await post("robot", {"command": "start", "value": "garage"})
            assert unknown.status_code == 422, unknown.text
            assert unknown.json()["error"]["key"] == "error.zone_not_allowed"
            assert "kitchen, living" in unknown.json()["error"]["message"]
            plain = await post("robot_plain", {"command": "start", "value": "kitchen"})
            assert plain.status_code == 422 and plain.json()["error"]["key"] == "error.zones_not_supported"
            started = await post("robot", {"command": "start", "value": "kitchen"})
            assert started.status_code == 200, started.text
            assert started.json()["state"]["attributes"]["zone"] == "kitchen"
            async with asyncio.timeout(10):
                while not (
                    finished := await hub.events(EventQuery(device_id="robot", kinds=(EventKind.FINISHED,)))
                ):
                    await asyncio.sleep(0.05)
            assert finished[0].data["zone"] == "kitchen"
            assert finished[0].data["cleaned_s"] >= 600


def test_zones_belong_to_robot_cleaners_and_need_plain_ids() -> None:
    with pytest.raises(HomeFileError) as raised:
        parse_home(
            "devices:\n"
            "  - {id: lamp, type: light, zones: {kitchen: [주방]}}\n"
            "  - {id: robot, type: robot_cleaner, zones: {Kitchen Area: [주방]}}\n"
        )
    text = str(raised.value)
    assert "zones are for robot cleaners only" in text and "zone id 'Kitchen Area'" in text
    assert DeviceType("door_lock") is DeviceType.DOOR_LOCK
