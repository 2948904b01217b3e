"""Sensors typed by what they measure: a humidity sensor is HumiditySetting (never a 65 °C
thermometer), PM2.5 and CO2 are SensorState, a thermometer is TemperatureControl — over SYNC and
QUERY on a real server, with the unit an MQTT sensor reports (its `unit_of_measurement`)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from oneteam.hub import Hub, parse_home
from oneteam.model import Home
from tests.interop.smarthome.conftest import Linked, intent, load_schema

HOME = """
rooms:
  bath: {names: [욕실, bathroom]}
devices:
  - {id: humidity, type: sensor, room: bath, names: [욕실 습도, bathroom humidity]}
  - {id: thermo, type: sensor, room: bath, names: [욕실 온도]}
  - {id: thermo_f, type: sensor, room: bath, names: [imported thermometer]}
  - {id: dust, type: sensor, room: bath, names: [미세먼지]}
  - {id: co2, type: sensor, room: bath, names: [이산화탄소]}
  - {id: power, type: sensor, room: bath, names: [전력]}
"""
# What each sensor reports, as the MQTT adapter applies it (unit from the discovery config).
READINGS: dict[str, dict[str, Any]] = {
    "humidity": {"unit": "%", "value": 65.4},
    "thermo": {"unit": "°C", "value": 21.5},
    "thermo_f": {"unit": "°F", "value": 77.0},
    "dust": {"unit": "µg/m³", "value": 38.0},
    "co2": {"unit": "ppm", "value": 870.0},
    "power": {"unit": "W", "value": 120.0},
}


@pytest.fixture
def partner_home() -> Home:
    return parse_home(HOME)


@pytest.fixture
def partner_hub(partner_hub: Hub) -> Hub:
    """The door's hub with each sensor's reading applied as the MQTT adapter would."""
    for device_id, reading in READINGS.items():
        partner_hub._apply(device_id, reading, "mqtt")
    return partner_hub


async def test_sensors_sync_and_query_as_what_they_measure(linked: Linked) -> None:
    sync = await linked.post(intent("SYNC"))
    jsonschema.Draft7Validator(load_schema("intents/sync/sync.response.schema.json")).validate(sync)
    known_traits = set(load_schema("platform/traits.schema.json")["enum"])
    devices = {d["id"]: d for d in sync["payload"]["devices"]}
    short = {i: sorted(t.rsplit(".", 1)[1] for t in d["traits"]) for i, d in devices.items()}
    assert short == {
        "humidity": ["HumiditySetting"],
        "thermo": ["TemperatureControl"],
        "thermo_f": ["TemperatureControl"],
        "dust": ["SensorState"],
        "co2": ["SensorState"],
        "power": [],  # no Google trait measures watts: nothing is claimed
    }
    for device in devices.values():
        assert set(device["traits"]) <= known_traits
        assert device["type"] == "action.devices.types.SENSOR"
    assert devices["humidity"]["attributes"] == {"queryOnlyHumiditySetting": True}
    assert devices["co2"]["attributes"]["sensorStatesSupported"] == [
        {"name": "CarbonDioxideLevel", "numericCapabilities": {"rawValueUnit": "PARTS_PER_MILLION"}}
    ]
    assert devices["thermo"]["attributes"]["queryOnlyTemperatureControl"] is True

    query = await linked.post(intent("QUERY", {"devices": [{"id": i} for i in READINGS]}))
    jsonschema.Draft7Validator(load_schema("intents/query/query.response.schema.json")).validate(query)
    states = query["payload"]["devices"]
    assert states["humidity"]["humidityAmbientPercent"] == 65
    assert "temperatureAmbientCelsius" not in states["humidity"]
    assert states["thermo"]["temperatureAmbientCelsius"] == 21.5
    assert states["thermo_f"]["temperatureAmbientCelsius"] == 25.0
    assert states["dust"]["currentSensorStateData"] == [{"name": "PM2.5", "rawValue": 38.0}]
    assert states["co2"]["currentSensorStateData"] == [{"name": "CarbonDioxideLevel", "rawValue": 870.0}]
    assert states["power"] == {"online": True, "status": "SUCCESS"}


async def test_a_sensor_takes_no_commands(linked: Linked) -> None:
    body = intent(
        "EXECUTE",
        {
            "commands": [
                {
                    "devices": [{"id": "humidity"}],
                    "execution": [
                        {"command": "action.devices.commands.SetTemperature", "params": {"temperature": 20}}
                    ],
                }
            ]
        },
    )
    answer = await linked.post(body)
    assert answer["payload"]["commands"] == [
        {"ids": ["humidity"], "status": "ERROR", "errorCode": "functionNotSupported"}
    ]
