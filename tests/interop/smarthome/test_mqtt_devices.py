"""Every MQTT device type the hub discovers (light, switch, AC, purifier, robot, sensor), through the
partner door on a real server with a real Mosquitto and simulated devices: SYNC, QUERY and EXECUTE
answers validate against the public schemas, as the demo home's do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.interop.smarthome import SmartHomeService
from oneteam.model import DeviceType
from tests.integrations.mqtt.conftest import eventually, mosquitto  # noqa: F401 (fixture)
from tests.interop.smarthome import test_fulfillment as demo_checks
from tests.interop.smarthome.conftest import (
    Door,
    PartnerEndpoint,
    Serve,
    execute_body,
    intent,
    link_account,
    validate,
)
from tests.interop.smarthome.test_fulfillment import Linked

DEVICES = 12


@pytest.fixture
async def linked(tmp_path: Path, mosquitto: MosquittoBroker) -> AsyncIterator[Linked]:  # noqa: F811
    home = parse_home("rooms:\n  home: {names: [집]}\n")
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await hub.add_adapter(MqttAdapter(mosquitto.settings, confirm_timeout_s=3.0))
    async with Simulator(mosquitto.device_settings, DEVICES, per_gateway=6) as sim, hub:
        assert await sim.wait_connected(5)
        await eventually(lambda: len(hub.devices()) == DEVICES, timeout_s=10)
        await eventually(lambda: all(hub.state(d.id).is_available for d in hub.devices()), timeout_s=10)
        await eventually(lambda: all(hub.state(d.id).attributes for d in hub.devices()), timeout_s=10)
        token = await hub.create_token("test")
        async with SmartHomeService(hub, tmp_path / "oneteam.sqlite3") as service:
            app = create_app(
                hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
            )
            app.state.smarthome = service
            async with Serve(app) as api, Serve(PartnerEndpoint().app()) as partner_side:
                door = Door(hub, api.url, token, service, PartnerEndpoint(), partner_side.url)
                partner, secret = door.add_partner(rate_per_minute=10_000)
                async with httpx.AsyncClient(timeout=10) as client:
                    tokens = await link_account(client, door, partner, secret)
                    yield Linked(door, client, tokens["access_token"])


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
