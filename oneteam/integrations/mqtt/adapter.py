"""The MQTT integration: devices that announce themselves with Home Assistant-style discovery.

Discovery configs become hub devices; their state topics stream into the hub; commands go out on
their command topics with QoS 1 and count as done once the device reports the commanded state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace

from oneteam.hub.adapter import AdapterSink
from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.confirm import Waiter, Waiters
from oneteam.integrations.mqtt.const import (
    COMPONENT_TYPES,
    CONFIRM_TIMEOUT_S,
    DEFAULT_DISCOVERY_PREFIX,
    DOMAIN,
    HUB_NODE_ID,
    MAX_STATE_BYTES,
    MAX_WARNED_TOPICS,
    PAYLOAD_ONLINE,
    STATUS_SUFFIX,
)
from oneteam.integrations.mqtt.convert import parse_discovery
from oneteam.integrations.mqtt.entity import Availability, DiscoveryError, Entity
from oneteam.integrations.mqtt.payloads import PayloadError, Reader, availability_value, plan_command, readers
from oneteam.integrations.mqtt.routes import TopicRoutes
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.model import (
    Command,
    CommandPending,
    Device,
    DeviceNotFound,
    DeviceUnavailable,
    Home,
    State,
    StateValue,
    VendorError,
)

_LOGGER = logging.getLogger(__name__)


class MqttAdapter:
    """Devices from any maker that speak MQTT discovery (Zigbee2MQTT, ESPHome, Tasmota, our simulator)."""

    name = DOMAIN

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX,
        home: Home | None = None,
        confirm_timeout_s: float = CONFIRM_TIMEOUT_S,
        connect_timeout_s: float = 5.0,
        ignore_nodes: tuple[str, ...] = (HUB_NODE_ID,),
    ) -> None:
        self.settings = settings
        self.prefix = discovery_prefix
        self.confirm_timeout_s = confirm_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._ignored_prefixes = tuple(
            f"{discovery_prefix}/{kind}/{node}/" for node in ignore_nodes for kind in COMPONENT_TYPES
        )
        self._home_devices = {
            d.id: d for d in (home.devices.values() if home else ()) if d.integration == DOMAIN
        }
        self._rooms = dict(home.rooms) if home else {}
        self._client: MqttClient | None = None
        self._stack = AsyncExitStack()
        self._sink: AdapterSink | None = None
        self._entities: dict[str, Entity] = {}
        self._by_config_topic: dict[str, str] = {}
        self._state_routes: TopicRoutes[Reader] = TopicRoutes()
        self._availability_routes: TopicRoutes[Availability] = TopicRoutes()
        self._last_payloads: dict[str, bytes] = {}
        """Last payload seen per state and availability topic: an entity that joins a topic already
        subscribed (one Zigbee2MQTT state topic feeds several entities) gets it at once, as the
        retained message it would have received on subscribing."""
        self._states: dict[str, dict[str, StateValue]] = {}
        self._available: dict[str, bool] = {}
        self._has_state: set[str] = set()
        self._waiters = Waiters()
        self._next_connect: asyncio.Future[None] | None = None
        self._warned: set[str] = set()
        self.messages_skipped = 0
        """Messages refused as malformed, oversized or of the wrong type, over the adapter's life."""

    # -- Adapter protocol -------------------------------------------------------------------

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        """Connect, subscribe to discovery, and report devices as they announce themselves."""
        self._sink = sink
        for device_id, state in last_states.items():
            self._states[device_id] = dict(state.attributes)
        for device_id in self._home_devices:
            sink.report_availability(device_id, False, "not announced on MQTT yet")
        self._next_connect = asyncio.get_running_loop().create_future()
        client = MqttClient(self.settings, name="mqtt-adapter")
        client.supervisor.on_failure = self._connection_task_failed
        client.on_connection(self._on_connection)
        for pattern in (f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"):
            client.subscribe(pattern, self._on_discovery)
        self._client = await self._stack.enter_async_context(client)
        if not await client.wait_connected(self.connect_timeout_s):
            _LOGGER.warning(
                "MQTT broker %s:%d not reachable yet; still trying", self.settings.host, self.settings.port
            )

    async def devices(self) -> Sequence[Device]:
        """Discovered devices, and those the home file names as MQTT devices."""
        found = {device_id: entity.device for device_id, entity in self._entities.items()}
        return [*found.values(), *(d for i, d in self._home_devices.items() if i not in found)]

    async def execute(self, command: Command) -> None:
        """Publish a command (QoS 1) and wait until the device reports the commanded state."""
        entity, client = self._reachable(command.device_id)
        plan = plan_command(entity, command, self._states.get(command.device_id, {}))
        if command.device_id not in self._has_state:
            # An optimistic device (no state topic): the broker's acknowledgement is all we get.
            try:
                async with asyncio.timeout(self.confirm_timeout_s):
                    for topic, payload in plan.messages:
                        await client.publish_acked(topic, payload)
            except TimeoutError:
                raise DeviceUnavailable(command.device_id, "(MQTT broker did not acknowledge)") from None
            if plan.expected:
                self._apply(command.device_id, plan.expected)
            return
        waiter = self._waiters.add(command.device_id, plan.expected)
        try:
            async with asyncio.timeout(self.confirm_timeout_s):
                await self._deliver(client, plan.messages, waiter)
        except TimeoutError:
            if not client.connected.is_set():
                raise DeviceUnavailable(command.device_id, "(MQTT broker not reachable)") from None
            if waiter.delivered:
                # Sent and acknowledged by the broker; the device may still act (its state will tell).
                raise CommandPending(
                    command.device_id,
                    f"did not confirm {command.name} within {self.confirm_timeout_s:g} s",
                    name=entity.device.display_name,
                ) from None
            raise VendorError(
                command.device_id, f"did not confirm {command.name} within {self.confirm_timeout_s:g} s"
            ) from None
        finally:
            self._waiters.discard(command.device_id, waiter)

    def _reachable(self, device_id: str) -> tuple[Entity, MqttClient]:
        """The device's entity and a connected client, or the error that says why not."""
        entity = self._entities.get(device_id)
        if entity is None:
            if device_id in self._home_devices:
                raise DeviceUnavailable(device_id, "(not announced on MQTT)")
            raise DeviceNotFound(device_id)
        client = self._client
        if client is None or not client.connected.is_set():
            raise DeviceUnavailable(device_id, "(MQTT broker not reachable)")
        if not self._available.get(device_id, False):
            raise DeviceUnavailable(device_id, "(device reports offline)")
        return entity, client

    async def _deliver(
        self, client: MqttClient, messages: tuple[tuple[str, str], ...], waiter: Waiter
    ) -> None:
        while True:
            assert self._next_connect is not None
            reconnected = self._next_connect
            await client.connected.wait()
            for topic, payload in messages:
                await client.publish_acked(topic, payload)
            waiter.delivered = True
            await asyncio.wait({waiter.future, reconnected}, return_when=asyncio.FIRST_COMPLETED)
            if waiter.future.done():
                return
            # The broker restarted after acknowledging: it may have lost the message before the
            # device got it, so send it again. Commands carry absolute values, so a repeat is harmless.
            _LOGGER.info("resending a command to %s after the broker restarted", messages[0][0])

    async def stop(self) -> None:
        """Disconnect from the broker and end every task."""
        self._waiters.cancel_all()
        await self._stack.aclose()
        self._client = None

    async def forget(self, device_id: str) -> None:
        """The household removed the device: clear its retained discovery config, as Home Assistant
        does, so it is not announced again at the next start; a device announcing itself anew comes back."""
        entity = self._entities.get(device_id)
        if entity is None:
            return
        self._forget(entity.config_topic)
        if self._client is not None:
            # QoS 1 without waiting: paho resends it after a reconnect if the broker is away now.
            self._client.publish(entity.config_topic, b"", qos=1, retain=True)

    # -- connection -------------------------------------------------------------------------

    def _on_connection(self, is_up: bool) -> None:
        if is_up:
            if self._next_connect is not None and not self._next_connect.done():
                self._next_connect.set_result(None)
            self._next_connect = asyncio.get_running_loop().create_future()
            self._birth()
            for device_id, entity in self._entities.items():
                if not entity.availability:
                    self._set_available(device_id, True, "")
            return
        self._last_payloads.clear()  # what the broker said before it went away may be stale
        for device_id in list(self._available):
            self._set_available(device_id, False, "MQTT broker connection lost")

    @property
    def supervisor(self) -> Supervisor | None:
        """The tasks of the adapter's broker connection (for the hub's health)."""
        return self._client.supervisor if self._client is not None else None

    def _connection_task_failed(self, name: str, devices: list[str], error: BaseException) -> None:
        # The connection task is restarted by its supervisor; until it reconnects, nothing is current.
        for device_id in list(self._available):
            self._set_available(device_id, False, "MQTT connection task down", reason_key="hub.task_down")

    def _birth(self) -> None:
        # Home Assistant's birth message: ESPHome, Zigbee2MQTT and Tasmota answer it by announcing
        # their configs and states again, which is how state is resynced after a broker restart.
        if self._client is not None:
            self._client.publish(f"{self.prefix}/{STATUS_SUFFIX}", PAYLOAD_ONLINE, qos=1)

    def _set_available(
        self, device_id: str, is_available: bool, reason: str, *, reason_key: str | None = None
    ) -> None:
        if self._available.get(device_id) == is_available:
            return
        self._available[device_id] = is_available
        if self._sink is not None:
            self._sink.report_availability(device_id, is_available, reason, reason_key=reason_key)

    # -- discovery --------------------------------------------------------------------------

    def _on_discovery(self, topic: str, payload: bytes) -> None:
        if topic.startswith(self._ignored_prefixes):
            return  # the hub's own devices, published by DiscoveryPublisher
        if not payload:
            self._forget(topic)
            return
        try:
            entity = parse_discovery(topic, payload, self.prefix, self._rooms)
        except DiscoveryError as exc:
            self._skip(topic, str(exc))
            return
        device_id = entity.device.id
        owner = self._by_config_topic.get(topic)
        if device_id in self._entities and self._entities[device_id].config_topic != topic:
            self._skip(
                topic, f"id {device_id!r} is already announced on {self._entities[device_id].config_topic}"
            )
            return
        if owner is not None and owner != device_id:
            self._forget(topic)
        known = self._home_devices.get(device_id)
        if known is not None:
            # The home file's names and room win over what the device calls itself.
            entity = replace(
                entity,
                device=replace(
                    entity.device,
                    names=known.names or entity.device.names,
                    room=known.room or entity.device.room,
                ),
            )
        previous = self._entities.get(device_id)
        if previous == entity:
            return
        if previous is not None:
            self._unbind(previous)
        self._entities[device_id] = entity
        self._by_config_topic[topic] = device_id
        self._states.setdefault(device_id, {})
        if self._sink is not None:
            self._sink.add_device(entity.device)
            if entity.unit:
                self._apply(device_id, {"unit": entity.unit})
        connected = self._client is not None and self._client.connected.is_set()
        self._set_available(device_id, connected and not entity.availability, "waiting for availability")
        self._bind(entity)

    def _bind(self, entity: Entity) -> None:
        assert self._client is not None
        device_id = entity.device.id
        for topic, reader in readers(entity):
            self._has_state.add(device_id)
            if self._state_routes.add(topic, device_id, reader):
                self._client.subscribe(topic, self._on_state)
            if topic in self._last_payloads:
                self._read_state(topic, self._last_payloads[topic], [(device_id, reader)])
        for availability in entity.availability:
            if self._availability_routes.add(availability.topic, device_id, availability):
                self._client.subscribe(availability.topic, self._on_availability)
            if availability.topic in self._last_payloads:
                self._read_availability(
                    availability.topic, self._last_payloads[availability.topic], [(device_id, availability)]
                )

    def _unbind(self, entity: Entity) -> None:
        device_id = entity.device.id
        self._has_state.discard(device_id)
        for routes, handler in (
            (self._state_routes, self._on_state),
            (self._availability_routes, self._on_availability),
        ):
            for topic in routes.remove(device_id):
                self._last_payloads.pop(topic, None)
                if self._client is not None:
                    self._client.unsubscribe(topic, handler)

    def _forget(self, config_topic: str) -> None:
        device_id = self._by_config_topic.pop(config_topic, None)
        if device_id is None:
            return
        entity = self._entities.pop(device_id, None)
        if entity is not None:
            self._unbind(entity)
        self._available.pop(device_id, None)
        self._states.pop(device_id, None)
        if self._sink is not None:
            self._sink.remove_device(device_id)

    def _skip(self, topic: str, reason: str) -> None:
        self.messages_skipped += 1
        key = f"{topic}\x00{reason[:60]}"
        if key in self._warned or len(self._warned) >= MAX_WARNED_TOPICS:
            return
        self._warned.add(key)
        _LOGGER.warning("MQTT message on %s skipped: %s", topic[:200], reason)

    # -- state and availability -------------------------------------------------------------

    def _on_state(self, topic: str, payload: bytes) -> None:
        routes = self._state_routes.get(topic)
        if not routes:
            return
        if len(payload) > MAX_STATE_BYTES:
            self._skip(topic, f"payload of {len(payload)} bytes is larger than {MAX_STATE_BYTES}")
            return
        self._last_payloads[topic] = payload
        self._read_state(topic, payload, routes)

    def _read_state(self, topic: str, payload: bytes, routes: list[tuple[str, Reader]]) -> None:
        for device_id, reader in routes:
            try:
                changes = reader(payload)
            except PayloadError as exc:
                self._skip(topic, str(exc))
                continue
            if changes:
                self._apply(device_id, changes)

    def _apply(self, device_id: str, changes: dict[str, StateValue]) -> None:
        state = self._states.get(device_id)
        if state is None:
            return
        state.update(changes)
        if self._sink is not None:
            self._sink.report_state(device_id, changes)
        self._waiters.settle(device_id, state)

    def _on_availability(self, topic: str, payload: bytes) -> None:
        if len(payload) > MAX_STATE_BYTES:
            self._skip(topic, f"availability payload of {len(payload)} bytes is too large")
            return
        self._last_payloads[topic] = payload
        self._read_availability(topic, payload, self._availability_routes.get(topic))

    def _read_availability(self, topic: str, payload: bytes, routes: list[tuple[str, Availability]]) -> None:
        for device_id, availability in routes:
            try:
                text = str(availability_value(payload, availability.template))
            except PayloadError as exc:
                self._skip(topic, f"availability: {exc}")
                continue
            if text == availability.online:
                self._set_available(device_id, True, "")
            elif text == availability.offline:
                self._set_available(device_id, False, "device reports offline")
            else:
                self._skip(
                    topic,
                    f"availability {text[:40]!r} is neither {availability.online!r} "
                    f"nor {availability.offline!r}",
                )
