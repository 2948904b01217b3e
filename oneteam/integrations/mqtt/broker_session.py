"""One client's session on the embedded broker (broker.py): MQTT 3.1.1 packets in, answers and
messages out, every buffer bounded by the broker's limits, device accounts kept off the hub's topics."""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
from dataclasses import dataclass, field
from typing import Protocol

from oneteam.integrations.mqtt import wire
from oneteam.integrations.mqtt.auth import Accounts, is_hub_only

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerLimits:
    """Bounds that keep one misbehaving client from exhausting the broker's memory."""

    max_packet_bytes: int = 256 * 1024
    max_write_buffer_bytes: int = 4 * 1024 * 1024
    """Per client: beyond this much unsent data, new messages for that client are dropped."""
    max_retained: int = 100_000
    max_subscriptions_per_client: int = 100_000


class SessionHost(Protocol):
    """What a session needs of the broker (broker.py's EmbeddedBroker)."""

    limits: BrokerLimits
    accounts: Accounts
    dropped: int
    denied: int

    def opened(self, session: BrokerSession) -> None: ...

    def check_credentials(self, username: str | None, password: bytes) -> int: ...

    def warn_refused(self, client_id: str, username: str | None) -> None: ...

    def take_over(self, session: BrokerSession) -> None: ...

    def add_subscription(self, topic_filter: str, session: BrokerSession) -> None: ...

    def remove_subscription(self, topic_filter: str, session: BrokerSession) -> None: ...

    def retained_for(self, topic_filter: str) -> list[tuple[str, tuple[bytes, int]]]: ...

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None: ...

    def forget(self, session: BrokerSession, *, publish_will: bool) -> None: ...


@dataclass(eq=False)
class BrokerSession(asyncio.Protocol):
    """One client's connection: reads its packets, answers them and queues what it is sent."""

    broker: SessionHost
    transport: asyncio.Transport | None = None
    client_id: str = ""
    username: str = ""
    is_device: bool = False
    """Signed in with a device account: the hub's own topics are closed to it."""
    warned_denied: bool = False
    is_connected: bool = False
    keepalive_s: int = 0
    last_seen: float = 0.0
    will: tuple[str, bytes, int, bool] | None = None
    filters: dict[str, int] = field(default_factory=dict)
    buffer: bytearray = field(default_factory=bytearray)
    packet_ids: itertools.cycle[int] = field(default_factory=lambda: itertools.cycle(range(1, 65536)))
    dropped: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.last_seen = asyncio.get_running_loop().time()
        self.broker.opened(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.last_seen = asyncio.get_running_loop().time()
        try:
            self._drain()
        except (wire.ProtocolViolation, UnicodeDecodeError, struct.error, IndexError) as exc:
            _LOGGER.warning("broker: closing %s: %s", self.client_id or "a client", exc)
            self.close(publish_will=True)

    def _drain(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            length, multiplier, position = 0, 1, 1
            while True:
                if position >= len(buffer):
                    return
                byte = buffer[position]
                length += (byte & 0x7F) * multiplier
                position += 1
                if not byte & 0x80:
                    break
                multiplier *= 128
                if multiplier > 128**3:
                    raise wire.ProtocolViolation("malformed remaining length")
            if length > self.broker.limits.max_packet_bytes:
                raise wire.ProtocolViolation(f"packet of {length} bytes is over the limit")
            if len(buffer) < position + length:
                return
            header = buffer[0]
            body = bytes(buffer[position : position + length])
            del buffer[: position + length]
            self._handle(header >> 4, header & 0x0F, body)
            if self.transport is None:
                return

    def _handle(self, kind: int, flags: int, body: bytes) -> None:
        if not self.is_connected and kind != wire.CONNECT:
            raise wire.ProtocolViolation("first packet must be CONNECT")
        if kind == wire.PUBLISH:
            self._on_publish(flags, body)
        elif kind == wire.CONNECT:
            self._on_connect(body)
        elif kind == wire.SUBSCRIBE:
            self._on_subscribe(body)
        elif kind == wire.UNSUBSCRIBE:
            self._on_unsubscribe(body)
        elif kind == wire.PINGREQ:
            self.send(wire.packet(wire.PINGRESP, 0, b""))
        elif kind == wire.PUBREL:
            self.send(wire.packet(wire.PUBCOMP, 0, body[:2]))
        elif kind == wire.DISCONNECT:
            self.close(publish_will=False)
        elif kind not in (wire.PUBACK, wire.PUBREC, wire.PUBCOMP):
            raise wire.ProtocolViolation(f"unexpected packet type {kind}")

    def _on_connect(self, body: bytes) -> None:
        if self.is_connected:
            raise wire.ProtocolViolation("second CONNECT")
        reader = wire.Reader(body)
        protocol, level, flags = reader.string(), reader.byte(), reader.byte()
        self.keepalive_s = reader.u16()
        if protocol not in (b"MQTT", b"MQIsdp") or level not in (3, 4):
            self.send(wire.packet(wire.CONNACK, 0, bytes([0, wire.BAD_PROTOCOL])))
            self.close(publish_will=False)
            return
        client_id = reader.string().decode()
        if flags & 0x04:
            will_topic, will_payload = reader.string().decode(), reader.string()
            self.will = (will_topic, will_payload, (flags >> 3) & 0x03, bool(flags & 0x20))
        username = reader.string().decode() if flags & 0x80 else None
        password = reader.string() if flags & 0x40 else b""
        code = self.broker.check_credentials(username, password)
        if code != wire.ACCEPTED:
            self.broker.warn_refused(client_id, username)
            self.send(wire.packet(wire.CONNACK, 0, bytes([0, code])))
            self.close(publish_will=False)
            return
        assert username is not None
        self.username = username
        self.is_device = self.broker.accounts.is_device(username)
        if self.will is not None and not self.may_use(self.will[0]):
            self.will = None
        self.client_id = client_id or f"auto-{id(self):x}"
        self.broker.take_over(self)
        self.is_connected = True
        self.send(wire.packet(wire.CONNACK, 0, bytes([0, wire.ACCEPTED])))

    def _on_publish(self, flags: int, body: bytes) -> None:
        qos = (flags >> 1) & 0x03
        length = struct.unpack_from("!H", body)[0]
        topic = body[2 : 2 + length].decode()
        position = 2 + length
        if qos:
            packet_id = body[position : position + 2]
            position += 2
        if not topic or "+" in topic or "#" in topic:
            raise wire.ProtocolViolation("PUBLISH to an invalid topic")
        if self.may_use(topic):
            self.broker.route(topic, body[position:], min(qos, 1), bool(flags & 0x01))
        else:
            # As Mosquitto does for MQTT 3.1.1 (which has no negative PUBACK): acknowledged, not delivered.
            self.broker.denied += 1
            if not self.warned_denied:
                self.warned_denied = True
                _LOGGER.warning(
                    "broker: %s (user %s) may not publish to %s", self.client_id, self.username, topic
                )
        if qos == 1:
            self.send(wire.packet(wire.PUBACK, 0, packet_id))
        elif qos == 2:
            self.send(wire.packet(wire.PUBREC, 0, packet_id))

    def _on_subscribe(self, body: bytes) -> None:
        reader = wire.Reader(body)
        packet_id = reader.raw(2)
        granted = bytearray()
        new_filters: list[str] = []
        while not reader.done():
            topic_filter, qos = reader.string().decode(), reader.byte() & 0x03
            if (
                not wire.valid_filter(topic_filter)
                or len(self.filters) >= self.broker.limits.max_subscriptions_per_client
            ):
                granted.append(0x80)
                continue
            self.filters[topic_filter] = min(qos, 1)
            self.broker.add_subscription(topic_filter, self)
            new_filters.append(topic_filter)
            granted.append(min(qos, 1))
        self.send(wire.packet(wire.SUBACK, 0, packet_id + bytes(granted)))
        for topic_filter in new_filters:
            for topic, (payload, qos) in self.broker.retained_for(topic_filter):
                if self.may_use(topic):
                    self.deliver(topic, payload, min(qos, self.filters[topic_filter]), retain=True)

    def _on_unsubscribe(self, body: bytes) -> None:
        reader = wire.Reader(body)
        packet_id = reader.raw(2)
        while not reader.done():
            topic_filter = reader.string().decode()
            if self.filters.pop(topic_filter, None) is not None:
                self.broker.remove_subscription(topic_filter, self)
        self.send(wire.packet(wire.UNSUBACK, 0, packet_id))

    def may_use(self, topic: str) -> bool:
        """Whether this client may publish to or read `topic`."""
        return not (self.is_device and is_hub_only(topic))

    def deliver(self, topic: str, payload: bytes, qos: int, *, retain: bool = False) -> None:
        """Queue one message for this client, or drop it if the client is too far behind."""
        transport = self.transport
        if transport is None:
            return
        if transport.get_write_buffer_size() > self.broker.limits.max_write_buffer_bytes:
            self.dropped += 1
            self.broker.dropped += 1
            return
        encoded = topic.encode()
        if qos:
            body = wire.string(encoded) + struct.pack("!H", next(self.packet_ids)) + payload
        else:
            body = wire.string(encoded) + payload
        transport.write(wire.packet(wire.PUBLISH, qos << 1 | int(retain), body))

    def send(self, data: bytes) -> None:
        """Write a control packet."""
        if self.transport is not None:
            self.transport.write(data)

    def close(self, *, publish_will: bool) -> None:
        """End the connection; publish the will if it ended abnormally."""
        if self.transport is None:
            return
        transport, self.transport = self.transport, None
        transport.close()
        self.broker.forget(self, publish_will=publish_will)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.transport = None
            self.broker.forget(self, publish_will=True)
