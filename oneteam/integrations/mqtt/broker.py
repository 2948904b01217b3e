"""A small embedded MQTT 3.1.1 broker for `make run`: one process, bounded memory, retained messages
kept on disk.

Production and the tests use Mosquitto (see mosquitto.py); this broker exists so a household can
run the hub with MQTT devices without installing anything. It keeps what a home needs: QoS 0 and 1
(QoS 2 is answered and delivered at QoS 1), retained messages, wills, keep-alive, `+`/`#`
filters and TLS. Every client signs in (anonymous ones are refused) and device accounts cannot
touch the hub's own topics (see auth.py). Every buffer is bounded: a client that reads slower than
others publish loses messages (counted in `dropped`) instead of growing the broker's memory.

Given a `retained_path` (the hub's data folder: retained_store.py), retained messages survive a
restart, so devices announced with retained discovery are listed again at once; only retained
messages are kept, not sessions, subscriptions or queued QoS 1 messages. Without one, as in tests
that start a bare broker, retained messages live in memory only.

wire.py reads and writes the packets; broker_session.py is one client's connection; this module
routes messages between sessions and keeps retained messages.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import ssl
from pathlib import Path
from types import TracebackType

from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.mqtt import wire
from oneteam.integrations.mqtt.auth import Accounts, is_hub_only
from oneteam.integrations.mqtt.broker_session import BrokerLimits, BrokerSession
from oneteam.integrations.mqtt.retained_store import DueWill, RetainedStore

_LOGGER = logging.getLogger(__name__)

_MAX_WARNED_REFUSALS = 1000


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
        retained_path: Path | None = None,
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
        self._sessions: set[BrokerSession] = set()
        self._warned_refusals: set[tuple[str, str | None]] = set()
        self._by_client_id: dict[str, BrokerSession] = {}
        self._exact: dict[str, set[BrokerSession]] = {}
        self._wildcards: dict[str, set[BrokerSession]] = {}
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._server: asyncio.Server | None = None
        self.store = None if retained_path is None else RetainedStore(retained_path)
        """Where retained messages are kept across restarts; None: in memory only."""
        self.supervisor = Supervisor("mqtt-broker")
        """Owns the keep-alive check and the store's writer (logged and restarted if they fail)."""

    async def __aenter__(self) -> EmbeddedBroker:
        loop = asyncio.get_running_loop()
        store = self.store
        # The port first (a second hub on the same data folder stops here, its store untouched),
        # then the store, then clients: a device's first subscription already finds what was kept.
        self._server = await loop.create_server(
            lambda: BrokerSession(broker=self),
            self.host,
            self.port,
            ssl=self.ssl_context,
            reuse_address=True,
            start_serving=False,
        )
        try:
            if store is not None:
                self._retained = await asyncio.to_thread(store.load, self.limits.max_retained)
            await self._server.start_serving()
        except BaseException:
            self._server.close()
            if store is not None:
                store.close()
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        self.supervisor.start()
        self.supervisor.spawn("broker-keepalive", self._check_keepalive)
        if store is not None:
            self.supervisor.spawn("broker-retained-store", lambda: store.run(self._due_wills))
        _LOGGER.info("embedded MQTT broker on %s:%d", self.host, self.port)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.supervisor.stop()
        if self._server is not None:
            self._server.close()
        # The clients connected now lose their connection with the broker: their wills are due at
        # the next start (retained_store.py). Taken before the sessions close and forget them.
        due = self._due_wills()
        for session in list(self._sessions):
            session.close(publish_will=False)
        if self.store is not None:
            self.store.wills_changed()
            try:
                await self.store.flush(lambda: due)
            except (OSError, sqlite3.Error) as error:  # a full disk: the broker still stops
                _LOGGER.error("MQTT retained store: last changes not written: %s", error)
            finally:
                self.store.close()
        if self._server is not None:
            await self._server.wait_closed()

    def _due_wills(self) -> list[DueWill]:
        """The retained wills of the connected clients."""
        return [
            (s.will[0], s.will[1], min(s.will[2], 1))
            for s in self._by_client_id.values()
            if s.will is not None and s.will[3]
        ]

    async def _check_keepalive(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            now = loop.time()
            for session in list(self._sessions):
                # MQTT 3.1.1 §3.1.2.10: one and a half keep-alive periods of silence end the session.
                if session.keepalive_s and now - session.last_seen > 1.5 * session.keepalive_s:
                    session.close(publish_will=True)

    def opened(self, session: BrokerSession) -> None:
        """A client connected (before it signs in): the keep-alive check watches it."""
        self._sessions.add(session)

    def check_credentials(self, username: str | None, password: bytes) -> int:
        """CONNACK code for these credentials: anonymous clients are not authorized (5), a wrong
        username or password is refused as such (4)."""
        if username is None:
            return wire.NOT_AUTHORIZED
        if not self.accounts.verify(username, password):
            return wire.BAD_CREDENTIALS
        return wire.ACCEPTED

    def warn_refused(self, client_id: str, username: str | None) -> None:
        """Log a refused sign-in once per client and username, so a device retrying does not flood the log."""
        key = (client_id, username)
        if key in self._warned_refusals or len(self._warned_refusals) >= _MAX_WARNED_REFUSALS:
            return
        self._warned_refusals.add(key)
        reason = "no username (anonymous)" if username is None else f"wrong password for user {username!r}"
        _LOGGER.warning("broker: refused client %r: %s", client_id, reason)

    def take_over(self, session: BrokerSession) -> None:
        """A client id connects again: the old connection ends (MQTT 3.1.1 §3.1.4)."""
        old = self._by_client_id.get(session.client_id)
        if old is not None and old is not session:
            old.close(publish_will=False)
        self._by_client_id[session.client_id] = session
        if self.store is not None and session.will is not None:
            self.store.wills_changed()

    def add_subscription(self, topic_filter: str, session: BrokerSession) -> None:
        """Route messages matching `topic_filter` to `session`."""
        table = self._wildcards if ("+" in topic_filter or "#" in topic_filter) else self._exact
        table.setdefault(topic_filter, set()).add(session)

    def remove_subscription(self, topic_filter: str, session: BrokerSession) -> None:
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
        return [(t, m) for t, m in self._retained.items() if wire.topic_matches(topic_filter, t)]

    def route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Deliver a published message to every matching subscription; keep it if retained."""
        if retain:
            store = self.store
            if not payload:  # MQTT 3.1.1 §3.3.1.3: an empty retained message clears the topic
                if self._retained.pop(topic, None) is not None and store is not None:
                    store.put(topic, None)
            elif topic in self._retained or len(self._retained) < self.limits.max_retained:
                self._retained[topic] = (payload, qos)
                if store is not None:
                    store.put(topic, (payload, qos))
        hub_only = bool(self.accounts.devices) and is_hub_only(topic)
        for session in self._exact.get(topic, ()):
            if not (hub_only and session.is_device):
                session.deliver(topic, payload, min(qos, session.filters.get(topic, 0)))
        for topic_filter, sessions in self._wildcards.items():
            if wire.topic_matches(topic_filter, topic):
                for session in sessions:
                    if not (hub_only and session.is_device):
                        session.deliver(topic, payload, min(qos, session.filters.get(topic_filter, 0)))

    def forget(self, session: BrokerSession, *, publish_will: bool) -> None:
        """A connection ended: drop its subscriptions, publish its will if it vanished."""
        self._sessions.discard(session)
        for topic_filter in session.filters:
            self.remove_subscription(topic_filter, session)
        session.filters.clear()
        if self._by_client_id.get(session.client_id) is session:
            del self._by_client_id[session.client_id]
            if self.store is not None and session.will is not None:
                self.store.wills_changed()
        if publish_will and session.is_connected and session.will is not None:
            topic, payload, qos, retain = session.will
            self.route(topic, payload, min(qos, 1), retain)
        session.is_connected = False
