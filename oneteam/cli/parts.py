"""The composition root: which optional parts a running hub gets, and how they reach the API.

Every outer room is started here, inside the hub's lifetime, and hands the API its routers and
service objects. Rooms never import each other; they meet on the hub.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI

from oneteam.hub import Hub, HubConfig

if TYPE_CHECKING:
    from oneteam.cluster.tenant_stores import TenantStores

_LOGGER = logging.getLogger(__name__)


@dataclass
class Parts:
    """What the started parts give the API."""

    routers: list[APIRouter] = field(default_factory=list)
    """Mounted behind the hub's bearer token."""
    public_routers: list[APIRouter] = field(default_factory=list)
    """Mounted without it (they check their own credentials)."""
    state: dict[str, Any] = field(default_factory=dict)
    """Set on `app.state` under these names."""
    after_app: list[Callable[[FastAPI], None]] = field(default_factory=list)
    """Called once the app exists (for parts that finish loading in the background)."""
    notes: list[str] = field(default_factory=list)
    """Lines for the start-up banner, in the reader's language (how devices join, for example)."""


async def add_vendor_adapters(hub: Hub, config: HubConfig) -> None:
    """Attach the device ecosystems this hub is configured for (beyond its virtual appliances)."""
    from oneteam.integrations.thinq import ThinqAdapter, load_thinq_config
    from oneteam.integrations.thinq.config import config_path

    thinq_settings = config_path(config.data_dir)
    if thinq_settings.exists():
        # `oneteam thinq link` wrote this file; the adapter watches it for a renewed token.
        await hub.add_adapter(ThinqAdapter(load_thinq_config(thinq_settings), config_file=thinq_settings))
        hub.features.add("thinq")


async def start_parts(hub: Hub, config: HubConfig, stack: AsyncExitStack) -> Parts:
    """Start every optional part for this hub; `stack` stops them when the hub stops."""
    parts = Parts()
    side = await _side_stores(config, stack)
    await _conversation(hub)
    await _partner_door(hub, config, stack, parts, side)
    await _mqtt(hub, config, stack, parts)
    await _maintenance(hub, config, parts)
    _epidemic(hub, config, stack, parts)
    _voice(hub, config, parts)
    await _automation(hub, config, stack, parts, side)
    return parts


async def _side_stores(config: HubConfig, stack: AsyncExitStack) -> TenantStores | None:
    """With a PostgreSQL database, the tables beside the hub's (routines, partner links and
    tokens) live there too, as the home "default" (oneteam/cluster/tenant_stores.py); without one,
    in the hub's SQLite file."""
    if not config.database_url:
        return None
    from oneteam.cluster.tenant_stores import TenantStores

    config.data_dir.mkdir(parents=True, exist_ok=True)  # partners.key, as beside SQLite
    stores = TenantStores.beside(config.database_url, config.data_dir)
    await stores.open()
    stack.push_async_callback(stores.close)  # after the parts that use it have stopped
    from oneteam.cluster.tenant_import import import_sqlite

    # Routines and partners an earlier release kept in data_dir's SQLite file come along, once.
    await asyncio.to_thread(import_sqlite, config.database_path, stores, stores.single_home)
    return stores


async def _automation(
    hub: Hub, config: HubConfig, stack: AsyncExitStack, parts: Parts, side: TenantStores | None
) -> None:
    import os

    from oneteam.api import routines as routines_api
    from oneteam.automation import AutomationStore, Engine
    from oneteam.automation.engine import GRACE_S
    from oneteam.automation.notify import MqttNotifier, Notifier, WebhookNotifier

    # Routines keep their own tables: in the hub's SQLite file, or its PostgreSQL database.
    config.data_dir.mkdir(parents=True, exist_ok=True)
    grace_s = float(os.environ.get("ONETEAM_AUTOMATION_GRACE_S", GRACE_S))
    notifiers: list[Notifier] = []
    if os.environ.get("ONETEAM_NOTIFY_WEBHOOK_URL"):
        # A routine's notices also go to this URL, signed with the secret when one is set.
        notifiers.append(
            WebhookNotifier(
                os.environ["ONETEAM_NOTIFY_WEBHOOK_URL"], os.environ.get("ONETEAM_NOTIFY_WEBHOOK_SECRET")
            )
        )
    if os.environ.get("ONETEAM_NOTIFY_MQTT_URL"):
        # mqtt://user:pass@host:1883/oneteam/notify: notices as JSON on that topic.
        try:
            notifiers.append(MqttNotifier.from_url(os.environ["ONETEAM_NOTIFY_MQTT_URL"]))
        except ValueError as exc:
            _LOGGER.error("ONETEAM_NOTIFY_MQTT_URL is not used: %s", exc)
            parts.notes.append(f"ONETEAM_NOTIFY_MQTT_URL: {exc}")
    store = side.routines(side.single_home) if side else AutomationStore(config.database_path)
    engine = Engine(hub, store, grace_s=grace_s, notifiers=notifiers)
    await engine.start(home_text=await hub.storage.stored_home(), presets="ko")
    stack.push_async_callback(engine.stop)
    parts.routers.append(routines_api.router)
    parts.state["automation"] = engine


def _epidemic(hub: Hub, config: HubConfig, stack: AsyncExitStack, parts: Parts) -> None:
    from oneteam.api import epidemic as epidemic_api
    from oneteam.services.epidemic import (
        EpidemicService,
        EpidemicStore,
        SubscriberHasher,
        load_operator_key,
        tv_of,
    )

    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = EpidemicStore(config.database_path)
    stack.callback(store.close)
    service = EpidemicService(
        store,
        SubscriberHasher(load_operator_key(None, config.data_dir)),
        publish=hub.publish,
        tv_for=lambda _home: tv_of(hub.home),
        default_home_id=hub.home.id,
    )
    # Batch runs (`oneteam epidemic run`) queue alerts in the database; the hub delivers them.
    hub.start_task("epidemic-delivery", lambda: service.deliver_loop(60.0))
    parts.routers.append(epidemic_api.router)
    parts.state["epidemic"] = service
    hub.features.add("epidemic")


def _voice(hub: Hub, config: HubConfig, parts: Parts) -> None:
    from oneteam.api import speech as speech_api

    parts.routers.append(speech_api.router)  # spoken alerts and warnings need eSpeak NG only
    if not config.voice:
        return
    from oneteam.api import voice as voice_api

    parts.public_routers.append(voice_api.router)  # a WebSocket that checks the hub token itself

    def load_in_background(app: FastAPI) -> None:
        async def load() -> None:
            from oneteam.voice.pipeline import for_hub

            # The Korean model is ~0.5 GB and takes seconds to load: the hub serves meanwhile, and
            # /api/voice answers "voice is not running" until it is ready.
            app.state.voice = await asyncio.to_thread(for_hub, hub)
            hub.features.add("voice")
            _LOGGER.info("voice pipeline ready")

        hub.start_task("voice-load", load())  # one try: a missing model is logged and listed, not reloaded

    parts.after_app.append(load_in_background)


async def _maintenance(hub: Hub, config: HubConfig, parts: Parts) -> None:
    from oneteam.api import maintenance as maintenance_api
    from oneteam.services.maintenance import MaintenanceService, ModelStore, models_dir

    service = MaintenanceService(ModelStore(models_dir(config.data_dir)), publish=hub.publish)
    await service.start()  # loads the appliance models, training them on a simulated fleet at first start

    async def watch() -> None:
        async with hub.subscribe("maintenance", maxsize=10_000) as events:
            await service.run(events)

    hub.start_task("maintenance", watch)
    parts.routers.append(maintenance_api.router)
    parts.state["maintenance"] = service
    hub.features.add("maintenance")


async def _mqtt(hub: Hub, config: HubConfig, stack: AsyncExitStack, parts: Parts) -> None:
    if config.mqtt_url is None and config.mqtt_port is None:
        return
    from oneteam.cli.context import OUT
    from oneteam.integrations.mqtt import mqtt_for_hub
    from oneteam.integrations.mqtt.credentials import (
        MqttCredentials,
        credentials_path,
        load_or_create_credentials,
        read_credentials,
    )
    from oneteam.integrations.mqtt.retained_store import retained_path

    credentials: MqttCredentials | None
    created = False
    if config.mqtt_url is None:
        # The embedded broker refuses anonymous clients: the accounts are made on first start.
        credentials, created = load_or_create_credentials(config.data_dir)
    else:
        credentials = read_credentials(config.data_dir)
    settings = await stack.enter_async_context(
        mqtt_for_hub(
            hub,
            broker_url=config.mqtt_url,
            embedded_port=config.mqtt_port or 1883,
            credentials=credentials,
            retained_path=retained_path(config.data_dir),  # only the embedded broker uses it
        )
    )
    hub.features.add("mqtt")
    if config.mqtt_url is None and credentials is not None:
        login = credentials.devices
        where = {"url": f"mqtt://{settings.host}:{settings.port}", "username": login.username}
        path = str(credentials_path(config.data_dir))
        if created:
            parts.notes.append(OUT.t("mqtt.devices_login", **where, password=login.password, path=path))
        else:
            parts.notes.append(OUT.t("mqtt.devices_login_file", **where, path=path))


async def _conversation(hub: Hub) -> None:
    from oneteam.voice.dialog import Conversation
    from oneteam.voice.routines import RoutineTalk

    conversation = Conversation(hub)
    await asyncio.to_thread(conversation.understander.warm_up)  # loads Kiwi once, off the loop
    # Routine and scene sentences ("외출 모드 해 줘") first, everything else to the dialog.
    hub.set_conversation_agent(RoutineTalk(hub, conversation))


async def _partner_door(
    hub: Hub, config: HubConfig, stack: AsyncExitStack, parts: Parts, side: TenantStores | None
) -> None:
    from oneteam.api import smarthome as smarthome_api
    from oneteam.interop.smarthome import SmartHomeService

    # The partner registry's own tables: in the hub's SQLite file, or its PostgreSQL database.
    database = side.partners(side.single_home) if side else config.database_path
    service = await stack.enter_async_context(SmartHomeService(hub, database))
    parts.routers.append(smarthome_api.router)
    parts.public_routers.append(smarthome_api.public_router)
    parts.state["smarthome"] = service
    hub.features.add("smarthome")
