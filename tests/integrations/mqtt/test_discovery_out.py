"""Discovery out: a real hub's virtual devices, published over MQTT, are seen and driven from outside."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.discovery_out import DiscoveryPublisher
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.settings import BrokerSettings, Will
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Device, DeviceType, builtin_type_specs
from tests.integrations.mqtt.conftest import RecordingSink, eventually

DEMO_HOME = Path(__file__).resolve().parents[3] / "oneteam" / "homes" / "demo.yaml"


@pytest.fixture
async def exported_hub(mosquitto: MosquittoBroker, tmp_path: Path) -> AsyncIterator[Hub]:
    """A hub running the demo home whose devices a DiscoveryPublisher exports to the broker."""
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home))
    will = Will("oneteam/status", "offline", "online")
    async with (
        hub,
        MqttClient(mosquitto.settings, will=will, name="mqtt-export") as client,
        hub.subscribe("mqtt-export") as events,
    ):
        publisher = DiscoveryPublisher(client)
        task = asyncio.create_task(
            publisher.run(hub.devices(), hub.states(), events, hub.dispatch, lookup=hub.device)
        )
        yield hub
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_hub_devices_are_discovered_by_an_mqtt_consumer_with_matching_types(
    mosquitto: MosquittoBroker, exported_hub: Hub, sink: RecordingSink
) -> None:
    # A second adapter plays Home Assistant: it must not ignore the hub's node for this test.
    consumer = MqttAdapter(mosquitto.settings, ignore_nodes=())
    await consumer.start(sink, {})
    try:
        await eventually(lambda: len(sink.devices) == len(exported_hub.devices()))
        for device in exported_hub.devices():
            seen = sink.devices[device.id]
            if device.type in (DeviceType.LIGHT, DeviceType.AIR_CONDITIONER, DeviceType.ROBOT_CLEANER):
                assert seen.type is device.type
        assert sink.devices["washer"].type is DeviceType.SENSOR  # no MQTT component for washers: a sensor
        assert (
            sink.devices["ac_living"].spec.temperature_range
            == exported_hub.device("ac_living").spec.temperature_range
        )
        await eventually(lambda: all(sink.available.get(d.id) for d in exported_hub.devices()))
    finally:
        await consumer.stop()


async def test_commands_from_mqtt_drive_the_hubs_devices_and_state_comes_back(
    mosquitto: MosquittoBroker, exported_hub: Hub, sink: RecordingSink
) -> None:
    consumer = MqttAdapter(mosquitto.settings, ignore_nodes=(), confirm_timeout_s=3.0)
    await consumer.start(sink, {})
    try:
        await eventually(
            lambda: sink.available.get("light_living") is True and sink.available.get("ac_living") is True
        )
        await consumer.execute(Command(device_id="light_living", name="set_brightness", value=30))
        assert exported_hub.state("light_living").get("brightness") == 30
        assert sink.states["light_living"]["brightness"] == 30

        await consumer.execute(Command(device_id="ac_living", name="set_temperature", value=22))
        assert exported_hub.state("ac_living").get("temperature") == 22

        await consumer.execute(Command(device_id="ac_living", name="turn_off"))
        assert exported_hub.state("ac_living").get("power") is False
        await consumer.execute(Command(device_id="ac_living", name="set_mode", value="dry"))
        assert exported_hub.state("ac_living").get("mode") == "dry"
        assert exported_hub.state("ac_living").get("power") is True  # a mode switches a climate device on
    finally:
        await consumer.stop()


async def test_the_adapter_ignores_the_hubs_own_configs_so_nothing_echoes(
    mosquitto: MosquittoBroker, exported_hub: Hub, sink: RecordingSink
) -> None:
    adapter = MqttAdapter(mosquitto.settings)
    await adapter.start(sink, {})
    try:
        await asyncio.sleep(0.3)
        assert sink.devices == {}
    finally:
        await adapter.stop()


def test_hub_devices_whose_ids_would_inject_topics_are_not_published() -> None:
    publisher = DiscoveryPublisher(MqttClient(BrokerSettings()))
    spec = builtin_type_specs()[DeviceType.SWITCH]
    for device_id in ("plug/1", "plug+", "ok_plug"):
        publisher._add(Device(id=device_id, type=DeviceType.SWITCH, room=None, spec=spec), None)
    assert list(publisher._devices) == ["ok_plug"]
