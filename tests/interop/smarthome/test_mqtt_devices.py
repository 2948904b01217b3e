"""Every MQTT device type the hub discovers (light, switch, AC, purifier, robot, sensor), through the
partner door on a real server with a real Mosquitto and simulated devices: SYNC, QUERY and EXECUTE
answers validate against the public schemas, as the demo home's do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.model import DeviceType
from tests.integrations.mqtt.conftest import eventually, mosquitto  # noqa: F401 (fixture)
from tests.interop.smarthome import test_fulfillment as demo_checks
from tests.interop.smarthome.conftest import (
    DB,
    Linked,
    execute_body,
    intent,
    validate,
)

DEVICES = 12


@pytest.fixture
async def partner_hub(tmp_path: Path, mosquitto: MosquittoBroker) -> AsyncIterator[Hub]:  # noqa: F811
    """A hub that found the simulator's devices over a real Mosquitto, each reporting a state."""
    hub = Hub(parse_home("rooms:\n  home: {names: [집]}\n"), SqliteStorage(tmp_path / DB))
    await hub.add_adapter(MqttAdapter(mosquitto.settings, confirm_timeout_s=3.0))
    async with Simulator(mosquitto.device_settings, DEVICES, per_gateway=6) as sim, hub:
        assert await sim.wait_connected(5)
        await eventually(lambda: len(hub.devices()) == DEVICES, timeout_s=10)
        await eventually(lambda: all(hub.state(d.id).is_available for d in hub.devices()), timeout_s=10)
        await eventually(lambda: all(hub.state(d.id).attributes for d in hub.devices()), timeout_s=10)
        yield hub


async def test_mqtt_devices_sync_query_and_execute_per_schema(linked: Linked) -> None:
    hub = linked.door.hub
    assert {d.type for d in hub.devices()} == {
        DeviceType.LIGHT,
        DeviceType.SWITCH,
        DeviceType.AIR_CONDITIONER,
        DeviceType.AIR_PURIFIER,
        DeviceType.ROBOT_CLEANER,
        DeviceType.SENSOR,
    }
    # The same checks the demo home passes, on the MQTT devices.
    await demo_checks.test_sync_devices_validate_against_type_trait_and_attribute_schemas(linked)
    await demo_checks.test_query_states_validate_against_trait_state_schemas(linked)
    sync = await linked.post(intent("SYNC"))
    by_type = {d["type"].rsplit(".", 1)[1]: d for d in sync["payload"]["devices"]}
    # The simulated sensor reports °C: it is a thermometer, not anything else.
    assert by_type["SENSOR"]["traits"] == ["action.devices.traits.TemperatureControl"]
    for kind, command, params in (
        ("LIGHT", "OnOff", {"on": True}),
        ("SWITCH", "OnOff", {"on": True}),
        ("AC_UNIT", "OnOff", {"on": True}),
        ("AIRPURIFIER", "OnOff", {"on": True}),
    ):
        answer = await linked.post(execute_body([by_type[kind]["id"]], command, params))
        validate(answer, "intents/execute/execute.response.schema.json")
        [result] = answer["payload"]["commands"]
        assert result["status"] == "SUCCESS" and result["states"]["on"] is True, (kind, result)
