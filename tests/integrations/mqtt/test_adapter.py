"""The MQTT adapter against a real Mosquitto, with simulated devices and raw paho clients."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.model import Command, DeviceNotFound, DeviceType, DeviceUnavailable, VendorError
from tests.integrations.mqtt.conftest import RecordingSink, eventually


@pytest.fixture
async def simulator(mosquitto: MosquittoBroker) -> AsyncIterator[Simulator]:
    """Twelve simulated devices (two of each kind) behind two gateways."""
    async with Simulator(mosquitto.device_settings, 12, per_gateway=6) as sim:
        assert await sim.wait_connected(5)
        yield sim


@pytest.fixture
async def adapter(mosquitto: MosquittoBroker, sink: RecordingSink) -> AsyncIterator[MqttAdapter]:
    """A started adapter reporting into `sink`."""
    mqtt = MqttAdapter(mosquitto.settings, confirm_timeout_s=2.0)
    await mqtt.start(sink, {})
    yield mqtt
    await mqtt.stop()


def _raw_client(broker: MosquittoBroker) -> paho.Client:
    """A bare paho client signed in as a device."""
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set(broker.credentials.devices.username, broker.credentials.devices.password)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


async def test_discovered_devices_appear_with_their_type_state_and_availability(
    simulator: Simulator, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    await eventually(lambda: len(sink.devices) == 12 and all(sink.available.get(i) for i in sink.devices))
    assert {d.type for d in sink.devices.values()} == {
        DeviceType.LIGHT,
        DeviceType.SWITCH,
        DeviceType.AIR_CONDITIONER,
        DeviceType.AIR_PURIFIER,
        DeviceType.ROBOT_CLEANER,
        DeviceType.SENSOR,
    }
    await eventually(lambda: "value" in sink.states.get("sim_sensor_00005", {}))
    assert sink.states["sim_light_00000"] == {"power": False, "brightness": 50}
    assert sink.states["sim_vacuum_00004"] == {"run_state": "docked", "battery": 100}
    assert {d.id for d in await adapter.devices()} == set(sink.devices)


async def test_a_command_reaches_the_device_and_returns_once_its_state_is_back(
    simulator: Simulator, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    await eventually(lambda: sink.available.get("sim_light_00000") is True)
    await adapter.execute(Command(device_id="sim_light_00000", name="set_brightness", value=40))
    device = simulator.devices["sim_light_00000"]
    assert json.loads(device.received[-1][1]) == {"state": "ON", "brightness": 102}
    assert sink.states["sim_light_00000"] == {"power": True, "brightness": 40}

    await eventually(lambda: sink.available.get("sim_climate_00002") is True)
    await adapter.execute(Command(device_id="sim_climate_00002", name="set_mode", value="fan"))
    assert simulator.devices["sim_climate_00002"].received[-1] == ("mode", "fan_only")
    assert sink.states["sim_climate_00002"]["mode"] == "fan"


async def test_a_device_whose_gateway_vanishes_is_unavailable_and_commands_say_so(
    simulator: Simulator, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    await eventually(lambda: sink.available.get("sim_switch_00001") is True)
    gateway = simulator.gateway_of("sim_switch_00001")
    # Cut the connection without DISCONNECT: the broker publishes the gateway's will (LWT).
    sock = gateway.client._paho.socket()
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
    await eventually(lambda: sink.available.get("sim_switch_00001") is False)
    with pytest.raises(DeviceUnavailable, match="sim_switch_00001"):
        await adapter.execute(Command(device_id="sim_switch_00001", name="turn_on"))
    await eventually(lambda: sink.available.get("sim_switch_00001") is True)  # the gateway reconnects


async def test_unknown_device_is_not_found(adapter: MqttAdapter) -> None:
    with pytest.raises(DeviceNotFound):
        await adapter.execute(Command(device_id="nobody", name="turn_on"))


async def test_a_device_that_never_answers_fails_with_a_clear_message(
    mosquitto: MosquittoBroker, sink: RecordingSink
) -> None:
    adapter = MqttAdapter(mosquitto.settings, confirm_timeout_s=0.5)
    await adapter.start(sink, {})
    raw = _raw_client(mosquitto)
    config = {"unique_id": "mute_plug", "state_topic": "mute/state", "command_topic": "mute/set"}
    raw.publish("homeassistant/switch/mute_plug/config", json.dumps(config), qos=1).wait_for_publish()
    await eventually(lambda: sink.available.get("mute_plug") is True)
    with pytest.raises(VendorError, match=r"did not confirm turn_on within 0\.5 s"):
        await adapter.execute(Command(device_id="mute_plug", name="turn_on"))
    await adapter.stop()
    raw.disconnect()
    raw.loop_stop()


async def test_an_optimistic_device_without_state_topic_takes_the_broker_ack(
    mosquitto: MosquittoBroker, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    raw = _raw_client(mosquitto)
    received: list[bytes] = []
    raw.on_message = lambda _c, _u, m: received.append(bytes(m.payload))
    raw.subscribe("blind/set", qos=1)
    config = {"unique_id": "relay", "command_topic": "blind/set"}
    raw.publish("homeassistant/switch/relay/config", json.dumps(config), qos=1).wait_for_publish()
    await eventually(lambda: sink.available.get("relay") is True)
    await adapter.execute(Command(device_id="relay", name="turn_on"))
    assert sink.states["relay"] == {"power": True}
    await eventually(lambda: received == [b"ON"])
    raw.disconnect()
    raw.loop_stop()


async def test_an_empty_config_removes_the_device(
    mosquitto: MosquittoBroker, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    raw = _raw_client(mosquitto)
    topic = "homeassistant/switch/gone/config"
    raw.publish(topic, json.dumps({"unique_id": "gone", "command_topic": "g/set"}), qos=1, retain=True)
    await eventually(lambda: "gone" in sink.devices)
    raw.publish(topic, b"", qos=1, retain=True).wait_for_publish()
    await eventually(lambda: sink.removed == ["gone"])
    assert "gone" not in {d.id for d in await adapter.devices()}
    raw.disconnect()
    raw.loop_stop()


async def test_bad_input_is_logged_once_per_topic_and_never_stops_the_adapter(
    mosquitto: MosquittoBroker,
    simulator: Simulator,
    adapter: MqttAdapter,
    sink: RecordingSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await eventually(lambda: sink.available.get("sim_light_00000") is True)
    raw = _raw_client(mosquitto)
    bad = {
        "homeassistant/light/x/broken/config": b"{not json",
        "homeassistant/lock/x/door/config": json.dumps(
            {"unique_id": "door", "command_topic": "d/set"}
        ).encode(),
        "homeassistant/switch/x/big/config": b'{"a": "' + b"x" * 70_000 + b'"}',
        "homeassistant/switch/x/slash/config": json.dumps(
            {"unique_id": "a/b", "command_topic": "s"}
        ).encode(),
        "homeassistant/switch/x/hash/config": json.dumps({"unique_id": "evil", "state_topic": "#"}).encode(),
        "homeassistant/switch/x/plus/config": json.dumps({"unique_id": "p+", "command_topic": "s"}).encode(),
    }
    caplog.set_level(logging.WARNING, logger="oneteam.integrations.mqtt")
    for _ in range(3):
        for topic, payload in bad.items():
            raw.publish(topic, payload, qos=1).wait_for_publish()
        # State of the wrong type for a real device, and an oversized one.
        raw.publish(simulator.devices["sim_light_00000"].state_topic, b'{"brightness": "very"}', qos=1)
        raw.publish(
            simulator.devices["sim_sensor_00005"].state_topic, b"x" * 20_000, qos=1
        ).wait_for_publish()
    await eventually(lambda: adapter.messages_skipped >= 3 * (len(bad) + 2))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for topic in bad:
        assert sum(topic in w for w in warnings) == 1, topic
    assert any("very" in w for w in warnings)
    assert not {"door", "a/b", "evil", "p+"} & set(sink.devices)
    # Still working: a command round trip after the flood.
    await adapter.execute(Command(device_id="sim_light_00000", name="turn_on"))
    assert sink.states["sim_light_00000"]["power"] is True
    raw.disconnect()
    raw.loop_stop()


async def test_a_state_topic_shared_by_several_entities_feeds_each(
    mosquitto: MosquittoBroker, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    # Zigbee2MQTT publishes one JSON per device and announces one sensor per field.
    raw = _raw_client(mosquitto)
    for field in ("temperature", "humidity"):
        config = {
            "unique_id": f"th_{field}",
            "state_topic": "z2m/th",
            "value_template": f"{{{{ value_json.{field} }}}}",
        }
        raw.publish(f"homeassistant/sensor/th/{field}/config", json.dumps(config), qos=1).wait_for_publish()
    await eventually(lambda: len(sink.devices) == 2)
    await asyncio.sleep(0.1)  # the state subscriptions go out in one batch after discovery
    raw.publish("z2m/th", json.dumps({"temperature": 21.5, "humidity": 40}), qos=1).wait_for_publish()
    await eventually(lambda: sink.states.get("th_humidity", {}).get("value") == 40)
    assert sink.states["th_temperature"]["value"] == 21.5
    raw.disconnect()
    raw.loop_stop()


async def test_a_device_joining_a_shared_availability_topic_later_is_available_at_once(
    mosquitto: MosquittoBroker, adapter: MqttAdapter, sink: RecordingSink
) -> None:
    # Zigbee2MQTT: one bridge availability topic for every device, devices paired one by one.
    raw = _raw_client(mosquitto)
    raw.publish("bridge/state", "online", qos=1, retain=True).wait_for_publish()
    for index in range(2):
        config = {
            "unique_id": f"plug_{index}",
            "command_topic": f"plug/{index}/set",
            "state_topic": f"plug/{index}/state",
            "availability_topic": "bridge/state",
        }
        raw.publish(f"homeassistant/switch/plug_{index}/config", json.dumps(config), qos=1).wait_for_publish()
        await eventually(lambda index=index: sink.available.get(f"plug_{index}") is True)  # type: ignore[misc]
    raw.publish("bridge/state", "offline", qos=1, retain=True).wait_for_publish()
    await eventually(lambda: sink.available.get("plug_0") is False and sink.available.get("plug_1") is False)
    assert sink.reasons["plug_1"] == "device reports offline"
    raw.disconnect()
    raw.loop_stop()
