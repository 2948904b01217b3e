"""A small embedded MQTT 3.1.1 broker for `make run`: one process, bounded memory, no persistence.

Production and the tests use Mosquitto (see mosquitto.py); this broker exists so a household can
run the hub with MQTT devices without installing anything. It keeps what a home needs: QoS 0 and 1
(QoS 2 is answered and delivered at QoS 1), retained messages, wills, keep-alive, `+`/`#`
filters and TLS. Every client signs in (anonymous ones are refused) and device accounts cannot
touch the hub's own topics (see auth.py). Every buffer is bounded: a client that reads slower than
others publish loses messages (counted in `dropped`) instead of growing the broker's memory.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl
import struct
from dataclasses import dataclass, field
from types import TracebackType

from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.mqtt.auth import Accounts, is_hub_only

_LOGGER = logging.getLogger(__name__)

_CONNECT, _CONNACK, _PUBLISH, _PUBACK, _PUBREC, _PUBREL, _PUBCOMP = 1, 2, 3, 4, 5, 6, 7
_SUBSCRIBE, _SUBACK, _UNSUBSCRIBE, _UNSUBACK, _PINGREQ, _PINGRESP, _DISCONNECT = 8, 9, 10, 11, 12, 13, 14
_ACCEPTED, _BAD_PROTOCOL, _BAD_CREDENTIALS, _NOT_AUTHORIZED = 0, 1, 4, 5
_MAX_WARNED_REFUSALS = 1000


class ProtocolViolation(ValueError):
    """A client sent something that is not MQTT 3.1.1; the broker closes that connection."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerLimits:
    """Bounds that keep one misbehaving client from exhausting the broker's memory."""

    max_packet_bytes: int = 256 * 1024
    max_write_buffer_bytes: int = 4 * 1024 * 1024
    """Per client: beyond this much unsent data, new messages for that client are dropped."""
    max_retained: int = 100_000
    max_subscriptions_per_client: int = 100_000


def _encode_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def _string(text: bytes) -> bytes:
    return struct.pack("!H", len(text)) + text


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _encode_length(len(body)) + body


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching: `+` is one level, `#` the rest; `$` topics only match `$` filters."""
    if topic.startswith("$") and not topic_filter.startswith("$"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or (level != "+" and level != topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


def _valid_filter(topic_filter: str) -> bool:
    levels = topic_filter.split("/")
    return bool(topic_filter) and all(
        ("+" not in level or level == "+") and ("#" not in level or (level == "#" and i == len(levels) - 1))
        for i, level in enumerate(levels)
    )


@dataclass(eq=False)
class _Session(asyncio.Protocol):
    broker: EmbeddedBroker
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
        self.broker._sessions.add(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.last_seen = asyncio.get_running_loop().time()
        try:
            self._drain()
        except (ProtocolViolation, UnicodeDecodeError, struct.error, IndexError) as exc:
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
                    raise ProtocolViolation("malformed remaining length")
            if length > self.broker.limits.max_packet_bytes:
                raise ProtocolViolation(f"packet of {length} bytes is over the limit")
            if len(buffer) < position + length:
                return
            header = buffer[0]
            body = bytes(buffer[position : position + length])
            del buffer[: position + length]
            self._handle(header >> 4, header & 0x0F, body)
            if self.transport is None:
                return

    def _handle(self, kind: int, flags: int, body: bytes) -> None:
        if not self.is_connected and kind != _CONNECT:
            raise ProtocolViolation("first packet must be CONNECT")
        if kind == _PUBLISH:
            self._on_publish(flags, body)
        elif kind == _CONNECT:
            self._on_connect(body)
        elif kind == _SUBSCRIBE:
            self._on_subscribe(body)
        elif kind == _UNSUBSCRIBE:
            self._on_unsubscribe(body)
        elif kind == _PINGREQ:
            self.send(_packet(_PINGRESP, 0, b""))
        elif kind == _PUBREL:
            self.send(_packet(_PUBCOMP, 0, body[:2]))
        elif kind == _DISCONNECT:
            self.close(publish_will=False)
        elif kind not in (_PUBACK, _PUBREC, _PUBCOMP):
            raise ProtocolViolation(f"unexpected packet type {kind}")

    def _on_connect(self, body: bytes) -> None:
        if self.is_connected:
            raise ProtocolViolation("second CONNECT")
        reader = _Reader(body)
        protocol, level, flags = reader.string(), reader.byte(), reader.byte()
        self.keepalive_s = reader.u16()
        if protocol not in (b"MQTT", b"MQIsdp") or level not in (3, 4):
            self.send(_packet(_CONNACK, 0, bytes([0, _BAD_PROTOCOL])))
            self.close(publish_will=False)
            return
        client_id = reader.string().decode()
        if flags & 0x04:
            will_topic, will_payload = reader.string().decode(), reader.string()
            self.will = (will_topic, will_payload, (flags >> 3) & 0x03, bool(flags & 0x20))
        username = reader.string().decode() if flags & 0x80 else None
        password = reader.string() if flags & 0x40 else b""
        code = self.broker.check_credentials(username, password)
        if code != _ACCEPTED:
            self.broker.warn_refused(client_id, username)
            self.send(_packet(_CONNACK, 0, bytes([0, code])))
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
        self.send(_packet(_CONNACK, 0, bytes([0, _ACCEPTED])))

    def _on_publish(self, flags: int, body: bytes) -> None:
        qos = (flags >> 1) & 0x03
        length = struct.unpack_from("!H", body)[0]
        topic = body[2 : 2 + length].decode()
        position = 2 + length
        if qos:
            packet_id = body[position : position + 2]
            position += 2
        if not topic or "+" in topic or "#" in topic:
            raise ProtocolViolation("PUBLISH to an invalid topic")
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
            self.send(_packet(_PUBACK, 0, packet_id))
        elif qos == 2:
            self.send(_packet(_PUBREC, 0, packet_id))

    def _on_subscribe(self, body: bytes) -> None:
        reader = _Reader(body)
        packet_id = reader.raw(2)
        granted = bytearray()
        new_filters: list[str] = []
        while not reader.done():
            topic_filter, qos = reader.string().decode(), reader.byte() & 0x03
            if (
                not _valid_filter(topic_filter)
                or len(self.filters) >= self.broker.limits.max_subscriptions_per_client
            ):
                granted.append(0x80)
                continue
            self.filters[topic_filter] = min(qos, 1)
            self.broker.add_subscription(topic_filter, self)
            new_filters.append(topic_filter)
            granted.append(min(qos, 1))
        self.send(_packet(_SUBACK, 0, packet_id + bytes(granted)))
        for topic_filter in new_filters:
            for topic, (payload, qos) in self.broker.retained_for(topic_filter):
                if self.may_use(topic):
                    self.deliver(topic, payload, min(qos, self.filters[topic_filter]), retain=True)

    def _on_unsubscribe(self, body: bytes) -> None:
        reader = _Reader(body)
        packet_id = reader.raw(2)
        while not reader.done():
            topic_filter = reader.string().decode()
            if self.filters.pop(topic_filter, None) is not None:
                self.broker.remove_subscription(topic_filter, self)
        self.send(_packet(_UNSUBACK, 0, packet_id))

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
            body = _string(encoded) + struct.pack("!H", next(self.packet_ids)) + payload
        else:
            body = _string(encoded) + payload
        transport.write(_packet(_PUBLISH, qos << 1 | int(retain), body))

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


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def done(self) -> bool:
        return self.position >= len(self.data)

    def raw(self, count: int) -> bytes:
        if self.position + count > len(self.data):
            raise ProtocolViolation("packet ends early")
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def byte(self) -> int:
        return self.raw(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("!H", self.raw(2))[0])

    def string(self) -> bytes:
        return self.raw(self.u16())


class EmbeddedBroker:
    """An in-process MQTT broker; `async with` serves it until the block ends."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        accounts: Accounts,
        ssl_context: ssl.SSLContext | None = None,
        limits: BrokerLimits | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.accounts = accounts
        """Who may sign in; a CONNECT without a username or with a wrong password is refused."""
        self.ssl_context = ssl_context
        self.limits = limits or BrokerLimits()
        self.dropped = 0
        """Messages dropped because a client fell behind, over the broker's life."""
        self.denied = 0
        """Messages a device account published to the hub's own topics, not delivered."""
        self._sessions: set[_Session] = set()
        self._warned_refusals: set[tuple[str, str | None]] = set()
        self._by_client_id: dict[str, _Session] = {}
        self._exact: dict[str, set[_Session]] = {}
        self._wildcards: dict[str, set[_Session]] = {}
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._server: asyncio.Server | None = None
        self.supervisor = Supervisor("mqtt-broker")
        """Owns the keep-alive check (logged and restarted if it fails, so dead clients still go)."""

    async def __aenter__(self) -> EmbeddedBroker:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Session(broker=self), self.host, self.port, ssl=self.ssl_context, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.supervisor.start()
        self.supervisor.spawn("broker-keepalive", self._check_keepalive)
        _LOGGER.info("embedded MQTT broker on %s:%d", self.host, self.port)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.supervisor.stop()
        for session in list(self._sessions):
            session.close(publish_will=False)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _check_keepalive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            now = loop.time()
            for session in list(self._sessions):
                # MQTT 3.1.1 §3.1.2.10: one and a half keep-alive periods of silence end the session.
                if session.keepalive_s and now - session.last_seen > 1.5 * session.keepalive_s:
                    session.close(publish_will=True)

    def check_credentials(self, username: str | None, password: bytes) -> int:
        """CONNACK code for these credentials: anonymous clients are not authorized (5), a wrong
        username or password is refused as such (4)."""
        if username is None:
            return _NOT_AUTHORIZED
        if not self.accounts.verify(username, password):
            return _BAD_CREDENTIALS
        return _ACCEPTED

    def warn_refused(self, client_id: str, username: str | None) -> None:
        """Log a refused sign-in once per client and username, so a device retrying does not flood the log."""
        key = (client_id, username)
        if key in self._warned_refusals or len(self._warned_refusals) >= _MAX_WARNED_REFUSALS:
            return
        self._warned_refusals.add(key)
        reason = "no username (anonymous)" if username is None else f"wrong password for user {username!r}"
        _LOGGER.warning("broker: refused client %r: %s", client_id, reason)

    def take_over(self, session: _Session) -> None:
        """A client id connects again: the old connection ends (MQTT 3.1.1 §3.1.4)."""
        old = self._by_client_id.get(session.client_id)
        if old is not None and old is not session:
            old.close(publish_will=False)
        self._by_client_id[session.client_id] = session

    def add_subscription(self, topic_filter: str, session: _Session) -> None:
        """Route messages matching `topic_filter` to `session`."""
        table = self._wildcards if ("+" in topic_filter or "#" in topic_filter) else self._exact
        table.setdefault(topic_filter, set()).add(session)

    def remove_subscription(self, topic_filter: str, session: _Session) -> None:
        """Stop routing `topic_filter` to `session`."""
        table = self._wildcards if ("+" in topic_filter or "#" in topic_filter) else self._exact
        sessions = table.get(topic_filter)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del table[topic_filter]

    def retained_for(self, topic_filter: str) -> list[tuple[str, tuple[bytes, int]]]:
        """Retained messages matching a new subscription."""
        if "+" not in topic_filter and "#" not in topic_filter:
            found = self._retained.get(topic_filter)
            return [(topic_filter, found)] if found else []
        return [(t, m) for t, m in self._retained.items() if topic_matches(topic_filter, t)]

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Deliver a published message to every matching subscription; keep it if retained."""
        if retain:
            if not payload:
                self._retained.pop(topic, None)
            elif topic in self._retained or len(self._retained) < self.limits.max_retained:
                self._retained[topic] = (payload, qos)
        hub_only = bool(self.accounts.devices) and is_hub_only(topic)
        for session in self._exact.get(topic, ()):
            if not (hub_only and session.is_device):
                session.deliver(topic, payload, min(qos, session.filters.get(topic, 0)))
        for topic_filter, sessions in self._wildcards.items():
            if topic_matches(topic_filter, topic):
                for session in sessions:
                    if not (hub_only and session.is_device):
                        session.deliver(topic, payload, min(qos, session.filters.get(topic_filter, 0)))

    def forget(self, session: _Session, *, publish_will: bool) -> None:
        """A connection ended: drop its subscriptions, publish its will if it vanished."""
        self._sessions.discard(session)
        for topic_filter in session.filters:
            self.remove_subscription(topic_filter, session)
        session.filters.clear()
        if self._by_client_id.get(session.client_id) is session:
            del self._by_client_id[session.client_id]
        if publish_will and session.is_connected and session.will is not None:
            topic, payload, qos, retain = session.will
            self.route(topic, payload, min(qos, 1), retain)
        session.is_connected = False
