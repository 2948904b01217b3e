"""An asyncio MQTT client on paho's packet engine: reconnect with backoff, re-subscribe, QoS 1 acks.

paho does the protocol; this module drives its socket from the event loop (`add_reader`), the way
aiomqtt does, but hands each message straight to a handler instead of through a queue, and turns
on TCP_NODELAY (Nagle's delay made command round trips ~21 ms instead of ~1 ms). Its settings, will
and error live in settings.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import socket
import ssl
from collections.abc import Callable
from types import TracebackType
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.mqtt.const import RECONNECT_MAX_S, RECONNECT_MIN_S, SUBSCRIBE_BATCH
from oneteam.integrations.mqtt.read_slices import BufferedSocket, clock, read_slice
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings, Will

_LOGGER = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
"""Called on the loop with (topic, payload) for every message on a subscribed filter."""


class MqttClient:
    """One connection to the broker for the life of an `async with` block; it reconnects by itself."""

    def __init__(self, settings: BrokerSettings, *, will: Will | None = None, name: str = "mqtt") -> None:
        self.settings = settings
        self.name = name
        self._will = will
        self._paho = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=settings.clean_session,
            protocol=paho.MQTTv311,
        )
        self._paho.max_inflight_messages_set(1000)
        self._paho.max_queued_messages_set(100_000)
        if settings.username is not None:
            self._paho.username_pw_set(settings.username, settings.password)
        if settings.use_tls:
            self._paho.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                certfile=str(settings.cert_file) if settings.cert_file else None,
                keyfile=str(settings.key_file) if settings.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            self._paho.tls_insecure_set(settings.tls_insecure)
        if will is not None:
            self._paho.will_set(will.topic, will.offline, qos=1, retain=True)
        self._paho.on_connect = self._on_connect
        self._paho.on_disconnect = self._on_disconnect
        self._paho.on_message = self._on_message
        self._paho.on_publish = self._on_publish
        self._paho.on_subscribe = self._on_ack
        self._paho.on_unsubscribe = self._on_ack
        self._paho.on_socket_open = self._on_socket_open
        self._paho.on_socket_close = self._on_socket_close
        self._paho.on_socket_register_write = self._on_register_write
        self._paho.on_socket_unregister_write = self._on_unregister_write
        self._loop: asyncio.AbstractEventLoop | None = None
        self.supervisor = Supervisor(name, backoff_base_s=RECONNECT_MIN_S, backoff_max_s=RECONNECT_MAX_S)
        """Owns the connection task: if it fails it is logged and restarted (the owner may set
        `supervisor.on_failure` to mark its devices unavailable meanwhile)."""
        self._lost: asyncio.Event = asyncio.Event()
        self.connected = asyncio.Event()
        """Set while a session with the broker is up."""
        self._exact: dict[str, list[MessageHandler]] = {}
        self._wildcards: dict[str, list[MessageHandler]] = {}
        self._pending_subscribe: list[str] = []
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._packets = 0
        self._connection_listeners: list[Callable[[bool], None]] = []
        self._refused: str | None = None
        self._closing = False
        self._fd = -1
        self._deferred = False  # reading waits for the next loop turn (`_read_later`)
        self._buffered: BufferedSocket | None = None
        self.messages_received = 0
        self._endpoints = [(settings.host, settings.port), *settings.fallbacks]
        self._endpoint = 0
        """Index in `_endpoints` of the node tried now; the next after every failure or loss."""

    # -- lifetime ---------------------------------------------------------------------------

    async def __aenter__(self) -> MqttClient:
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self.supervisor.start()
        self.supervisor.spawn(f"{self.name}-connection", self._run)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        await self.supervisor.stop()
        if self.connected.is_set() and self._will is not None:
            # A polite goodbye: the broker does not publish the will on a clean DISCONNECT.
            self._paho.publish(self._will.topic, self._will.offline, qos=0, retain=True)
        self._paho.disconnect()
        self._paho.loop_write()
        self._close_socket_callbacks()
        self.connected.clear()
        for future in self._acks.values():
            if not future.done():
                future.cancel()
        self._acks.clear()

    async def wait_connected(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for a session; whether one is up."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.connected.wait()
        except TimeoutError:
            return False
        return True

    @property
    def endpoint(self) -> tuple[str, int]:
        """(host, port) of the broker node in use now, or tried next."""
        return self._endpoints[self._endpoint]

    @property
    def refused(self) -> str | None:
        """Why the broker refused the last attempt (e.g. "Not authorized"), or None."""
        return self._refused

    def on_connection(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(True)` after every (re)connect and subscription, `listener(False)` on loss."""
        self._connection_listeners.append(listener)

    async def _run(self) -> None:
        delay_s = RECONNECT_MIN_S
        first = True
        while True:
            self._lost.clear()
            host, port = self._endpoints[self._endpoint]
            try:
                if first or len(self._endpoints) > 1:
                    self._paho.connect(host, port, self.settings.keepalive_s)
                else:
                    self._paho.reconnect()
            except (OSError, ssl.SSLError) as exc:
                _LOGGER.debug("%s: cannot reach %s:%d: %s", self.name, host, port, exc)
                # A cluster: the next node now; the back-off grows once every node has failed.
                self._endpoint = (self._endpoint + 1) % len(self._endpoints)
                if self._endpoint != 0:
                    continue
                # Jitter, so a fleet of clients does not reconnect in lockstep.
                await asyncio.sleep(delay_s * random.uniform(0.8, 1.2))
                delay_s = min(delay_s * 2, RECONNECT_MAX_S)
                continue
            first = False
            # The keep-alive lives as long as this connection; if it fails, so does the connection
            # task, and the supervisor logs and restarts it.
            async with asyncio.TaskGroup() as connection:
                misc = connection.create_task(self._misc_loop(), name=f"{self.name}-keepalive")
                await self._lost.wait()
                misc.cancel()
            if self._refused is not None:
                _LOGGER.error("%s: broker refused the connection: %s", self.name, self._refused)
            # The node we lost may be down: the next one of a cluster is the likelier to answer.
            self._endpoint = (self._endpoint + 1) % len(self._endpoints)
            delay_s = RECONNECT_MIN_S if self._refused is None else RECONNECT_MAX_S
            await asyncio.sleep(delay_s)

    async def _misc_loop(self) -> None:
        # paho's keep-alive check (a PINGREQ once nothing was sent for keepalive_s; a broker silent
        # that long is given up): every keepalive_s / 6, not every second, since a process holding
        # a thousand homes' clients woke a thousand times a second for it. A closed socket is
        # still seen at once (the reader); only a silent broker is noticed up to 1/6 later.
        interval_s = max(0.5, self.settings.keepalive_s / 6)
        while True:
            await asyncio.sleep(interval_s)
            self._paho.loop_misc()

    # -- socket glue (paho calls these on the loop thread) ----------------------------------

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self._loop is not None
        # paho reads each packet with three recv() calls (type, length, body); reading 64 KiB at a
        # time and serving paho from that buffer nearly doubled the messages per second here.
        self._buffered = BufferedSocket(sock)
        client._sock = self._buffered  # paho has no hook to wrap its socket
        # Register by number: paho may have closed the socket object by the time we unregister.
        self._fd = sock.fileno()
        self._loop.add_reader(self._fd, self._on_readable)

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._close_socket_callbacks()

    def _on_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        if self._fd >= 0:
            self._loop.add_writer(self._fd, self._paho.loop_write)

    def _on_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        if self._fd >= 0:
            self._loop.remove_writer(self._fd)

    def _close_socket_callbacks(self) -> None:
        if self._fd >= 0 and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
        self._fd = -1

    def _on_readable(self) -> None:
        # paho reads a packet per loop_read: keep reading while packets arrive (a burst costs one
        # wake-up), within the loop turn's read budget shared by every client (read_slices.py).
        assert self._loop is not None
        budget = read_slice(self._loop)
        if budget.exhausted():
            self._read_later()
            return
        began = clock()
        try:
            for _ in range(1000):
                before = self._packets
                if self._paho.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return
                if self._packets == before and not (self._buffered and self._buffered.has_data()):
                    return
                if budget.exhausted(clock() - began):
                    break
        finally:
            budget.charge(clock() - began)
        self._read_later()  # more may be waiting: the rest of the loop runs first

    def _read_later(self) -> None:
        # Unwatched until the next turn (a readable socket would call us every turn), then read:
        # data already buffered wakes no epoll, so it is read then too.
        assert self._loop is not None
        if self._fd >= 0 and not self._deferred:
            self._deferred = True
            self._loop.remove_reader(self._fd)
            self._loop.call_soon(self._read_now, self._fd)

    def _read_now(self, fd: int) -> None:
        self._deferred = False
        if self._fd != fd or self._loop is None:
            return  # closed (or another socket opened) meanwhile: its own reader is in place
        self._loop.add_reader(fd, self._on_readable)
        self._on_readable()

    # -- paho callbacks ---------------------------------------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._packets += 1
        if reason.is_failure:
            self._refused = str(reason)
            return
        self._refused = None
        host, port = self._endpoints[self._endpoint]
        _LOGGER.info("%s: connected to %s:%d", self.name, host, port)
        if self._will is not None:
            self._paho.publish(self._will.topic, self._will.online, qos=1, retain=True)
        # Every filter again, a resumed session too: NATS 2.9 can leave a resumed session's QoS 1
        # consumer without its subscriber after a node dies; a new SUBSCRIBE replaces it.
        self._pending_subscribe = [*self._exact, *self._wildcards]
        self._flush_subscriptions()
        self.connected.set()
        for listener in list(self._connection_listeners):
            listener(True)

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        self._lost.set()
        if was_connected and not self._closing:
            _LOGGER.warning("%s: connection to the broker lost (%s)", self.name, reason)
            for listener in list(self._connection_listeners):
                listener(False)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._packets += 1
        self.messages_received += 1
        try:
            topic = message.topic
        except UnicodeDecodeError:
            _LOGGER.warning("%s: message with a topic that is not UTF-8 skipped", self.name)
            return
        handlers = self._exact.get(topic)
        if handlers is None:
            handlers = [h for f, hs in self._wildcards.items() if _topic_matches(f, topic) for h in hs]
        for handler in handlers:
            try:
                handler(topic, bytes(message.payload))
            except Exception:
                # One bad message must never end the connection's read loop.
                _LOGGER.exception("%s: handler failed for a message on %s", self.name, topic)

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self._packets += 1
        future = self._acks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _on_ack(self, client: paho.Client, userdata: Any, mid: int, *rest: Any) -> None:
        self._packets += 1

    # -- subscriptions and publishing -------------------------------------------------------

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Deliver messages on `topic_filter` to `handler`, now and after every reconnect."""
        table = self._wildcards if ("+" in topic_filter or "#" in topic_filter) else self._exact
        handlers = table.setdefault(topic_filter, [])
        handlers.append(handler)
        if len(handlers) == 1 and self.connected.is_set():
            self._pending_subscribe.append(topic_filter)
            if len(self._pending_subscribe) == 1 and self._loop is not None:
                # Batch: thousands of discovered devices become a few SUBSCRIBE packets.
                self._loop.call_soon(self._flush_subscriptions)

    def unsubscribe(self, topic_filter: str, handler: MessageHandler) -> None:
        """Stop delivering `topic_filter` to `handler`; unsubscribe at the broker when none is left."""
        table = self._wildcards if ("+" in topic_filter or "#" in topic_filter) else self._exact
        handlers = table.get(topic_filter)
        if handlers is None or handler not in handlers:
            return
        handlers.remove(handler)
        if not handlers:
            del table[topic_filter]
            if self.connected.is_set():
                self._paho.unsubscribe(topic_filter)

    def _flush_subscriptions(self) -> None:
        pending, self._pending_subscribe = self._pending_subscribe, []
        if not self.connected.is_set() and not self._paho.is_connected():
            return
        for start in range(0, len(pending), SUBSCRIBE_BATCH):
            qos = self.settings.subscribe_qos
            self._paho.subscribe([(t, qos) for t in pending[start : start + SUBSCRIBE_BATCH]])

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 0, retain: bool = False) -> None:
        """Send a message without waiting (QoS 1 ones are still resent by paho after a reconnect)."""
        self._paho.publish(topic, payload, qos=qos, retain=retain)

    async def publish_acked(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        """Send with QoS 1 and return once the broker acknowledged it (PUBACK)."""
        assert self._loop is not None
        info = self._paho.publish(topic, payload, qos=1, retain=retain)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            raise BrokerError("too many unacknowledged messages queued for the broker")
        if info.is_published():
            return
        future: asyncio.Future[None] = self._loop.create_future()
        self._acks[info.mid] = future
        try:
            await future
        finally:
            self._acks.pop(info.mid, None)


@functools.lru_cache(maxsize=32_768)
def _topic_matches(topic_filter: str, topic: str) -> bool:
    """paho's `topic_matches_sub`, remembered: it builds a matcher tree on every call, and a process
    holding hundreds of homes' clients matched each message against each wildcard filter that way
    (5-11 % of a cluster survivor's CPU while it took over a dead process's homes, py-spy)."""
    return bool(paho.topic_matches_sub(topic_filter, topic))
