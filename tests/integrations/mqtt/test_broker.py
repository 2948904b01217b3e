"""The embedded broker: enough MQTT for a home, with every buffer bounded."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from oneteam.integrations.mqtt import BrokerSettings, MqttAdapter, MqttClient
from oneteam.integrations.mqtt.broker import BrokerLimits, EmbeddedBroker, topic_matches
from oneteam.integrations.mqtt.client import Will
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.model import Command
from tests.integrations.mqtt.conftest import RecordingSink, eventually


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    """An embedded broker on a free port."""
    async with EmbeddedBroker(port=0, limits=BrokerLimits(max_write_buffer_bytes=64 * 1024)) as embedded:
        yield embedded


def _settings(broker: EmbeddedBroker, **extra: object) -> BrokerSettings:
    return BrokerSettings(host="127.0.0.1", port=broker.port, **extra)  # type: ignore[arg-type]


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
    async with Simulator(_settings(broker), 12, per_gateway=6) as simulator:
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
    async with EmbeddedBroker(port=0, users={"home": "s3cret"}) as embedded:
        async with MqttClient(_settings(embedded, username="home", password="nope")) as wrong:
            assert not await wrong.wait_connected(0.5)
        async with MqttClient(_settings(embedded, username="home", password="s3cret")) as right:
            assert await right.wait_connected(2)


async def test_a_client_that_never_reads_cannot_grow_the_brokers_memory(broker: EmbeddedBroker) -> None:
    # A raw client subscribes to everything and then never reads its socket.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", broker.port))
    _reader, writer = await asyncio.open_connection(sock=sock)
    connect_body = b"\x00\x04MQTT\x04\x02\x00\x3c" + b"\x00\x04slow"
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
