"""MQTT for a running hub in one block: broker (embedded or external), adapter and discovery out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from oneteam.hub import Hub
from oneteam.integrations.mqtt.adapter import MqttAdapter
from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.const import PAYLOAD_OFFLINE, PAYLOAD_ONLINE, STATUS_SUFFIX
from oneteam.integrations.mqtt.credentials import MqttCredentials
from oneteam.integrations.mqtt.discovery_out import DiscoveryPublisher
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings, Will, parse_broker_url
from oneteam.integrations.mqtt.topics import HomeTopics

_LOGGER = logging.getLogger(__name__)

AWAITED_S = 60.0
"""How long after MQTT attaches a stored device not announced again answers "unavailable": devices
reconnect to a restarted broker with their own back-off (paho's starts at 1 s and doubles)."""


@asynccontextmanager
async def mqtt_for_hub(
    hub: Hub,
    *,
    broker_url: str | None = None,
    embedded_host: str = "127.0.0.1",
    embedded_port: int = 1883,
    credentials: MqttCredentials | None = None,
    export: bool = True,
    topic_root: str = "",
    retained_path: Path | None = None,
) -> AsyncIterator[BrokerSettings]:
    """Attach MQTT to a started hub; yields how the hub reaches the broker.

    With no `broker_url` an embedded broker is started on `embedded_host:embedded_port` with the
    hub's accounts (`credentials`, required then); with a `retained_path` (`oneteam serve`: the
    hub's data folder) it keeps retained messages across restarts, so the devices it knew are
    listed again at once from their retained discovery. A `broker_url` without a username signs in as
    the hub's account when `credentials` are given (Mosquitto set up with the hub's password file).
    With `export`, the hub's own devices are published with discovery so Home Assistant or any
    MQTT tool holding the hub's account can drive them. With a `topic_root` (`oneteam/<home_id>` on
    the many-homes broker cluster) every topic of the home lives under it (topics.py).
    """
    topics = HomeTopics(topic_root)
    async with AsyncExitStack() as stack:
        if broker_url is None:
            if credentials is None:
                raise BrokerError("the embedded broker needs the hub's MQTT accounts")
            try:
                broker = await stack.enter_async_context(
                    EmbeddedBroker(
                        embedded_host,
                        embedded_port,
                        accounts=credentials.accounts(),
                        retained_path=retained_path,
                    )
                )
            except OSError as exc:
                # Most often another broker (a system Mosquitto) already has the port.
                raise BrokerError(
                    f"cannot listen on {embedded_host}:{embedded_port}: {exc.strerror}"
                ) from exc
            hub.watch(broker.supervisor)
            settings = BrokerSettings(
                host=embedded_host,
                port=broker.port,
                username=credentials.hub.username,
                password=credentials.hub.password,
            )
        else:
            settings = parse_broker_url(broker_url)
            if settings.username is None and credentials is not None:
                settings = dataclasses.replace(
                    settings, username=credentials.hub.username, password=credentials.hub.password
                )
        adapter = MqttAdapter(settings, home=hub.home, discovery_prefix=topics.discovery_prefix)
        # After a restart the MQTT devices are registered only as they announce again (retained
        # discovery: at once from the embedded broker's store or a persistent Mosquitto; or devices
        # answering the birth message once they reconnect): a command to one meanwhile is
        # "unavailable, connecting", not "no such device".
        returning = hub.registry.expect_back(AWAITED_S)
        if returning:
            _LOGGER.info("%d stored devices expected back from MQTT within %.0f s", len(returning), AWAITED_S)
        await hub.add_adapter(adapter)
        stack.push_async_callback(adapter.stop)
        if export:
            will = Will(f"{topics.hub_base}/{STATUS_SUFFIX}", PAYLOAD_OFFLINE, PAYLOAD_ONLINE)
            client = await stack.enter_async_context(MqttClient(settings, will=will, name="mqtt-export"))
            hub.watch(client.supervisor)
            events = await stack.enter_async_context(hub.subscribe("mqtt-export", maxsize=10_000))
            publisher = DiscoveryPublisher(client, topics.discovery_prefix, base_topic=topics.hub_base)
            # Owned by the hub's supervisor (logged and restarted if it fails), ended before the
            # client it publishes through closes.
            hub.start_task(
                "mqtt-export",
                lambda: publisher.run(hub.devices(), hub.states(), events, hub.dispatch, lookup=hub.device),
            )
            stack.push_async_callback(hub.supervisor.end, "mqtt-export")
        yield settings
