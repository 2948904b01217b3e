"""The hub: one home, one command path, one event bus.

Every door (REST, WebSocket, voice, routines, partner clouds) calls `Hub.dispatch` with the same
`Command`; every change comes back as an `Event` on the bus and in the stored history.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import replace
from types import TracebackType
from typing import Any

from oneteam.hub.accounts_db import accounts_for
from oneteam.hub.adapter import Adapter
from oneteam.hub.bus import EventBus, Subscription
from oneteam.hub.conversation import DOOR_GRANT, ConversationAgent, ConversationUnavailable
from oneteam.hub.device_edits import DeviceEditInvalid, DeviceEditor
from oneteam.hub.device_overrides import DeviceOverride, overrides_for
from oneteam.hub.household import Household
from oneteam.hub.hub_tokens import HubTokens
from oneteam.hub.registry import Registry, RegistrySink
from oneteam.hub.scheduler import Scheduler
from oneteam.hub.storage import EventQuery, Storage
from oneteam.hub.supervisor import Devices, Supervisor, Work
from oneteam.hub.task_watch import TaskWatch
from oneteam.hub.tokens import TokenKeeper
from oneteam.i18n import render
from oneteam.model import (
    Command,
    Device,
    DeviceUnavailable,
    Event,
    EventKind,
    Grant,
    Home,
    OneteamError,
    State,
    StateValue,
)
from oneteam.model.conversation import ConversationReply, check_sentence
from oneteam.model.state_rules import base_name, check_state

_LOGGER = logging.getLogger(__name__)

__all__ = ["DeviceEditInvalid", "Hub"]


class Hub(HubTokens):
    """The running core: device registry, state store, event bus, dispatch and persistence.

    Token and grant methods (`grant_for`, `create_token`, ...) come from HubTokens (hub_tokens.py)."""

    def __init__(
        self,
        home: Home,
        storage: Storage,
        *,
        event_retention_s: float = 30 * 86400.0,
        timezone: str = "Asia/Seoul",
    ) -> None:
        self.home = home
        self.storage = storage
        self.bus = EventBus()
        self._event_retention_s = event_retention_s
        self.registry = Registry(storage, self.publish)
        """Devices, their owning adapters and current states (hub/registry.py)."""
        self._overrides = overrides_for(storage)
        self._editor = DeviceEditor(home, self.registry, self._overrides)
        self._adapters: list[Adapter] = []
        self._last_event_id = 0
        self.tokens = TokenKeeper(storage)
        self.household = Household(accounts_for(storage), storage, self.devices, lambda: self.devices_version)
        """Members, sign-in sessions and members' tokens: what every door turns a bearer value into."""
        self._tasks = TaskWatch(self.registry, self.publish)
        self.supervisor = Supervisor("hub", on_failure=self._tasks.failed, on_recovered=self._tasks.recovered)
        """Owns the hub's long-lived tasks (scheduler, retention, the parts' loops)."""
        self._running_adapters: list[Adapter] = []
        self._stack = AsyncExitStack()
        self._started = False
        self._agent: ConversationAgent | None = None
        self.scheduler = Scheduler(self, timezone)
        self.features: set[str] = set()
        """Optional parts running in this hub (`conversation`, `voice`, `maintenance`, ...)."""

    # -- lifetime ---------------------------------------------------------------------------

    async def __aenter__(self) -> Hub:
        await self.storage.open()
        self._stack.push_async_callback(self.storage.close)
        try:
            await self.household.open()
            self._stack.push_async_callback(self.household.close)
            self.registry.stored_states = await self.storage.load_states()
            await self._overrides.open()
            self._stack.push_async_callback(self._overrides.close)
            self.registry.overrides = {o.device_id: o for o in await self._overrides.load()}
            self._last_event_id = await self.storage.last_event_id()
            self._started = True
            self.supervisor.start()
            for adapter in self._adapters:
                await self._start_adapter(adapter)
            await self.scheduler.load()
            self.start_task("scheduler", self.scheduler.run)
        except BaseException:
            # Nothing half-started stays behind: adapters already running stop, storage closes.
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.supervisor.stop()
        running, self._running_adapters = self._running_adapters, []
        for adapter in reversed(running):
            try:
                await adapter.stop()
            except Exception:
                _LOGGER.exception("adapter %s did not stop cleanly", adapter.name)
        await self._stack.aclose()
        self._started = False

    def watch(self, supervisor: Supervisor) -> None:
        """List another part's supervisor in `task_health` (the embedded broker, MQTT export)."""
        self._tasks.watched.append(supervisor)

    def task_health(self) -> list[dict[str, Any]]:
        """Every supervised task of the hub, its adapters and the watched parts: state, failures,
        last error."""
        return self._tasks.health(self.supervisor, self._running_adapters)

    async def add_adapter(self, adapter: Adapter) -> None:
        """Attach an integration; its devices join the registry (now, or when the hub starts)."""
        self._adapters.append(adapter)
        if self._started:
            await self._start_adapter(adapter)

    async def _start_adapter(self, adapter: Adapter) -> None:
        mine = {
            d.id: s
            for d, s in ((d, self.registry.stored_states.get(d.id)) for d in self.home.devices.values())
            if d.integration == adapter.name and s is not None
        }
        # Devices known before start (a home file's) are registered first, so the adapter can
        # report their state from start(); devices found while connecting are registered after.
        for device in await adapter.devices():
            self.registry.register(device, adapter, announce=False)
        # Counted as running before start() returns, so a start that fails halfway is stopped too.
        self._running_adapters.append(adapter)
        await adapter.start(RegistrySink(self.registry, adapter, self.publish), mine)
        for device in await adapter.devices():
            if not self.registry.knows(device.id):
                self.registry.register(device, adapter, announce=False)

    def start_task(self, name: str, work: Work, *, devices: Devices = ()) -> None:
        """Run a background task for the hub's lifetime, owned by the hub's supervisor: a failure is
        logged, `devices` are marked unavailable, and a factory `work` is restarted with back-off."""
        self.supervisor.spawn(name, work, devices=devices)

    async def run_retention(self, interval_s: float) -> None:
        """Delete events older than the retention setting, now and every `interval_s`."""
        while True:
            removed = await self.storage.prune_events(time.time() - self._event_retention_s)
            if removed:
                _LOGGER.info("retention removed %d old events", removed)
            await asyncio.sleep(interval_s)

    # -- registry and state (hub/registry.py) -----------------------------------------------

    @property
    def devices_version(self) -> int:
        """Counts registrations and removals, so views built from the devices know when to rebuild."""
        return self.registry.version

    def devices(self) -> list[Device]:
        """Every device the hub knows, in registration order."""
        return self.registry.devices()

    def home_view(self) -> Home:
        """The home with every device the hub knows now: the home file's and those integrations
        found while running (ThinQ appliances, MQTT discovery)."""
        return self.registry.home_view(self.home)

    def device(self, device_id: str) -> Device:
        """One device, or DeviceNotFound."""
        return self.registry.device(device_id)

    def state(self, device_id: str) -> State:
        """A device's current state, or DeviceNotFound."""
        return self.registry.state(device_id)

    def states(self) -> dict[str, State]:
        """Every device's current state."""
        return self.registry.states()

    def device_override(self, device_id: str) -> DeviceOverride | None:
        """What the household changed about a device (name, room, hidden), if anything."""
        return self.registry.overrides.get(device_id)

    async def edit_device(
        self,
        device_id: str,
        *,
        name: str | None = None,
        room: str | None = None,
        hidden: bool | None = None,
        source: str = "api",
    ) -> Device:
        """Rename a device, move it to a room of the home, hide or show it; kept across restarts
        and laid over the device whenever its integration registers it again."""
        return await self._editor.edit(device_id, name=name, room=room, hidden=hidden, source=source)

    async def remove_device(self, device_id: str, *, source: str = "api") -> bool:
        """Remove a device: one an integration found (MQTT, ThinQ) is forgotten with its changes
        until it is found again; a home-file device is hidden (the file still lists it). Returns
        whether it was forgotten."""
        return await self._editor.remove(device_id, source=source)

    def _apply(self, device_id: str, changes: Mapping[str, StateValue], source: str) -> None:
        # As an adapter reports through its sink (tests report readings this way).
        self.registry.apply(device_id, changes, source)

    def _set_available(
        self, device_id: str, is_available: bool, reason: str, source: str, *, reason_key: str | None = None
    ) -> None:
        self.registry.set_available(device_id, is_available, reason, source, reason_key=reason_key)

    # -- events -----------------------------------------------------------------------------

    def publish(self, event: Event) -> Event:
        """Number, store and fan out an event; returns it with its id and time."""
        return self._emit(event.kind, event.device_id, event.data, event.source, event.at)

    def _emit(
        self, kind: EventKind, device_id: str | None, data: Mapping[str, Any], source: str, at: float = 0.0
    ) -> Event:
        # The event is built once, numbered: dispatch calls this without a draft Event to copy.
        self._last_event_id += 1
        event = Event(
            kind=kind,
            device_id=device_id,
            data=data,
            source=source,
            at=at or time.time(),
            id=self._last_event_id,
        )
        self.storage.put_event(event)
        self.bus.publish(event)
        return event

    def subscribe(self, name: str, maxsize: int = 1000) -> AbstractAsyncContextManager[Subscription]:
        """A bounded subscription to every event from now on."""
        return self.bus.subscribe(name, maxsize)

    async def events(self, query: EventQuery) -> list[Event]:
        """Event history, newest first."""
        await self.storage.flush()
        return await self.storage.events(query)

    # -- commands ---------------------------------------------------------------------------

    async def dispatch(self, command: Command, *, grant: Grant | None = None) -> State:
        """Validate a command, have the owning integration carry it out, and return the stored state.

        With a `grant`, the caller's permissions are checked first (PermissionDenied) and the
        command's source becomes the grant's, whatever the door wrote. Returns only once the
        resulting state is committed to storage, so an acknowledged command survives a crash.
        """
        registry = self.registry
        device, state, owner = registry.target(command.device_id)
        if grant is not None:
            command = replace(command, source=grant.source)
        try:
            if grant is not None:
                grant.refuse(device, base_name(command.name))
            if not state.is_available:
                reason, reason_key = registry.unavailable_reason(device.id)
                raise DeviceUnavailable(device.id, reason, reason_key=reason_key, name=device.display_name)
            if command.name == "set_mode":
                command = self.canonical_mode(command, device)
            # Validation, then the state rule every door shares: no "done" for stopping an idle washer.
            command = check_state(command, device, state)
            await owner.execute(command)
        except OneteamError as exc:
            self.publish(
                Event(
                    kind=EventKind.COMMAND_FAILED,
                    device_id=device.id,
                    data={
                        **command.as_dict(),
                        "error": exc.key,
                        "message": str(exc),
                        # The reason in every language, so a log read later says it as people do.
                        "text": {lang: render(exc.key, lang, **exc.facts()) for lang in ("ko", "en")},
                    },
                    source=command.source,
                )
            )
            raise
        self._emit(EventKind.COMMAND, device.id, command.as_dict(), command.source)
        await self.storage.flush()
        return registry.state(device.id)

    def canonical_mode(self, command: Command, device: Device) -> Command:
        """A mode by a name the home file gives it ("제습" for dry) becomes its id, so a mode said
        at the REST API or the CLI reads as it does by voice."""
        if base_name(command.name) != "set_mode" or not isinstance(command.value, str):
            return command
        if command.value in device.spec.modes:
            return command
        wanted = command.value.replace(" ", "").lower()
        for mode, names in self.home.mode_names.get(device.type, {}).items():
            if mode in device.spec.modes and any(n.replace(" ", "").lower() == wanted for n in names):
                return replace(command, value=mode)
        return command

    async def dispatch_many(
        self, commands: Sequence[Command], *, grant: Grant | None = None
    ) -> list[State | OneteamError]:
        """Dispatch several commands in order; each result is the new state or the error it raised."""
        results: list[State | OneteamError] = []
        for command in commands:
            try:
                results.append(await self.dispatch(command, grant=grant))
            except OneteamError as exc:
                results.append(exc)
        return results

    # -- conversation -----------------------------------------------------------------------

    def set_conversation_agent(self, agent: ConversationAgent) -> None:
        """Register the language understanding that `converse` hands sentences to."""
        self._agent = agent
        self.features.add("conversation")

    async def converse(
        self,
        text: str,
        *,
        room: str | None = None,
        language: str | None = None,
        session: str = "",
        source: str = "api",
        grant: Grant | None = None,
    ) -> ConversationReply:
        """Understand a sentence and act on it through `dispatch` (needs a registered agent).

        The agent checks `grant` before each command and each schedule it books. A sentence over
        MAX_SENTENCE_CHARS is refused here, so every door (REST, MCP, voice, Wyoming) has the cap."""
        check_sentence(text)
        if self._agent is None:
            raise ConversationUnavailable("no language understanding is running")
        grant = grant or DOOR_GRANT.get()
        if grant is not None:
            source = grant.source
        return await self._agent.converse(
            text, room=room, language=language, session=session, source=source, grant=grant
        )

    def stats(self) -> dict[str, Any]:
        """Counters for health and benchmarks."""
        return {
            "devices": len(self.registry.devices()),
            "events_published": self._last_event_id,
            "subscribers": self.bus.subscriber_count,
            "events_dropped": self.bus.dropped_total,
        }
