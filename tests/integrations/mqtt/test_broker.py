"""The embedded broker: enough MQTT for a home, every client signed in, every buffer bounded."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from oneteam.integrations.mqtt import BrokerSettings, MqttAdapter, MqttClient
from oneteam.integrations.mqtt.auth import Accounts
from oneteam.integrations.mqtt.broker import BrokerLimits, EmbeddedBroker
from oneteam.integrations.mqtt.credentials import Login, MqttCredentials
from oneteam.integrations.mqtt.settings import Will
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.integrations.mqtt.wire import topic_matches
from oneteam.model import Command
from tests.integrations.mqtt.conftest import RecordingSink, eventually

CREDENTIALS = MqttCredentials.generate()


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """An embedded broker on a free port with the hub's two accounts."""
    async with EmbeddedBroker(
        port=0,
        accounts=CREDENTIALS.accounts(),
        limits=BrokerLimits(max_write_buffer_bytes=64 * 1024),
    ) as embedded:
        yield embedded


def _settings(broker: EmbeddedBroker, login: Login | None = CREDENTIALS.hub) -> BrokerSettings:
    return BrokerSettings(
        host="127.0.0.1",
        port=broker.port,
        username=login.username if login else None,
        password=login.password if login else None,
    )


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("a/+", "a/b/c", False),
        ("#", "$SYS/x", False),
        ("a/b", "a/b", True),
    ],
)
def test_topic_filters_match_as_mqtt_says(topic_filter: str, topic: str, matches: bool) -> None:
    assert topic_matches(topic_filter, topic) is matches


async def test_adapter_and_simulated_devices_work_through_the_embedded_broker(
    broker: EmbeddedBroker, sink: RecordingSink
) -> None:
    async with Simulator(_settings(broker, CREDENTIALS.devices), 12, per_gateway=6) as simulator:
        assert await simulator.wait_connected(5)
        adapter = MqttAdapter(_settings(broker), confirm_timeout_s=2.0)
        await adapter.start(sink, {})
        try:
            await eventually(
                lambda: len(sink.devices) == 12 and all(sink.available.get(i) for i in sink.devices)
            )
            await adapter.execute(Command(device_id="sim_light_00000", name="set_brightness", value=70))
            assert sink.states["sim_light_00000"]["brightness"] == 70
            await adapter.execute(Command(device_id="sim_vacuum_00004", name="return_to_base"))
            assert sink.states["sim_vacuum_00004"]["run_state"] == "returning"
        finally:
            await adapter.stop()


async def test_a_vanished_clients_will_is_published_and_retained(broker: EmbeddedBroker) -> None:
    received: list[bytes] = []
    async with MqttClient(_settings(broker), will=Will("dev/status", "offline", "online")) as device:
        assert await device.wait_connected(2)
        sock = device._paho.socket()
        assert sock is not None
        # Vanish without DISCONNECT (paho types its socket loosely).
        sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
        async with MqttClient(_settings(broker)) as watcher:
            watcher.subscribe("dev/status", lambda _t, p: received.append(p))
            await eventually(lambda: b"offline" in received)


async def test_wrong_password_is_refused_and_the_right_one_accepted() -> None:
    async with EmbeddedBroker(port=0, accounts=Accounts.of({"home": "s3cret"})) as embedded:
        async with MqttClient(_settings(embedded, Login("home", "nope"))) as wrong:
            assert not await wrong.wait_connected(0.5)
            assert wrong.refused is not None
        async with MqttClient(_settings(embedded, Login("nobody", "s3cret"))) as stranger:
            assert not await stranger.wait_connected(0.5)
        async with MqttClient(_settings(embedded, Login("home", "s3cret"))) as right:
            assert await right.wait_connected(2)
            assert right.refused is None


async def test_a_client_that_never_reads_cannot_grow_the_brokers_memory(broker: EmbeddedBroker) -> None:
    # A raw client subscribes to everything and then never reads its socket.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", broker.port))
    _reader, writer = await asyncio.open_connection(sock=sock)
    login = CREDENTIALS.devices
    user, password = login.username.encode(), login.password.encode()
    connect_body = (
        b"\x00\x04MQTT\x04\xc2\x00\x3c"  # clean session, username and password
        + b"\x00\x04slow"
        + len(user).to_bytes(2, "big")
        + user
        + len(password).to_bytes(2, "big")
        + password
    )
    writer.write(bytes([0x10, len(connect_body)]) + connect_body)
    subscribe_body = b"\x00\x01" + b"\x00\x01#" + b"\x00"
    writer.write(bytes([0x82, len(subscribe_body)]) + subscribe_body)
    await writer.drain()
    await asyncio.sleep(0.1)
    async with MqttClient(_settings(broker)) as flooder:
        assert await flooder.wait_connected(2)
        for _ in range(5000):
            flooder.publish("flood", b"x" * 4000)
        await eventually(lambda: broker.dropped > 0, timeout_s=10)
    slow = next(s for s in broker._sessions if s.client_id == "slow")
    assert slow.transport is not None
    assert slow.transport.get_write_buffer_size() <= 64 * 1024 + 5000
    writer.close()


async def test_garbage_closes_that_connection_only(broker: EmbeddedBroker) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    writer.write(b"\x30\xff\xff\xff\xff\x7f")  # a PUBLISH before CONNECT with an impossible length
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 2) == b""
    async with MqttClient(_settings(broker)) as client:
        assert await client.wait_connected(2)


async def _raw_connect(port: int, flags: int, tail: bytes) -> tuple[bytes, bytes]:
    """Send one CONNECT by hand; (the broker's answer, what came after it until it closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b"\x00\x04MQTT\x04" + bytes([flags]) + b"\x00\x3c" + b"\x00\x03raw" + tail
    writer.write(bytes([0x10, len(body)]) + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.readexactly(4), 2)
    rest = await asyncio.wait_for(reader.read(), 2)  # b"" once the broker has closed the connection
    writer.close()
    return answer, rest


def _login_fields(username: str, password: str) -> bytes:
    user, secret = username.encode(), password.encode()
    return len(user).to_bytes(2, "big") + user + len(secret).to_bytes(2, "big") + secret


async def test_an_anonymous_connect_is_refused_with_code_5_and_closed(broker: EmbeddedBroker) -> None:
    answer, rest = await _raw_connect(broker.port, 0x02, b"")
    assert answer == b"\x20\x02\x00\x05" and rest == b""  # CONNACK "not authorized", then closed
    async with MqttClient(_settings(broker, None)) as anonymous:
        assert not await anonymous.wait_connected(0.5)
        assert anonymous.refused == "Not authorized"


async def test_a_wrong_password_is_refused_with_code_4_and_the_right_one_gets_0(
    broker: EmbeddedBroker,
) -> None:
    wrong = _login_fields(CREDENTIALS.devices.username, CREDENTIALS.hub.password)
    answer, rest = await _raw_connect(broker.port, 0xC2, wrong)
    assert answer == b"\x20\x02\x00\x04" and rest == b""  # "bad user name or password", then closed
    right = _login_fields(CREDENTIALS.devices.username, CREDENTIALS.devices.password)
    reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
    body = b"\x00\x04MQTT\x04\xc2\x00\x3c\x00\x03raw" + right
    writer.write(bytes([0x10, len(body)]) + body)
    assert await asyncio.wait_for(reader.readexactly(4), 2) == b"\x20\x02\x00\x00"
    writer.close()


async def test_a_device_account_cannot_publish_or_read_the_hubs_own_topics(broker: EmbeddedBroker) -> None:
    hub_saw: list[str] = []
    device_saw: list[str] = []
    async with (
        MqttClient(_settings(broker, CREDENTIALS.hub), name="hub") as hub,
        MqttClient(_settings(broker, CREDENTIALS.devices), name="device") as device,
    ):
        assert await hub.wait_connected(2) and await device.wait_connected(2)
        hub.subscribe("#", lambda t, _p: hub_saw.append(t))
        device.subscribe("#", lambda t, _p: device_saw.append(t))
        await asyncio.sleep(0.1)  # both SUBSCRIBEs go out right after the calls return
        # A device tries to drive one of the hub's appliances and to pose as one of them.
        await device.publish_acked("oneteam/washer/set", b'{"state": "ON"}')
        await device.publish_acked("homeassistant/switch/oneteam/washer/config", b"{}")
        await device.publish_acked("zigbee2mqtt/lamp/state", b'{"state": "ON"}')  # its own topic: fine
        # The hub publishes its device's state and a command to a device.
        await hub.publish_acked("oneteam/washer/state", b'{"state": "OFF"}')
        await hub.publish_acked("zigbee2mqtt/lamp/set", b'{"state": "OFF"}')
        await eventually(lambda: "zigbee2mqtt/lamp/set" in device_saw and "zigbee2mqtt/lamp/set" in hub_saw)
    assert "zigbee2mqtt/lamp/state" in hub_saw
    assert "oneteam/washer/set" not in hub_saw
    assert "homeassistant/switch/oneteam/washer/config" not in hub_saw
    assert "oneteam/washer/state" in hub_saw and "oneteam/washer/state" not in device_saw
    assert broker.denied == 2
