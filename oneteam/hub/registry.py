"""The hub's device registry and state store: which devices exist, which adapter owns each, their
current states and why one is unavailable. Every change is stored and published as an event;
adapters report through a `RegistrySink`, the hub's side of the AdapterSink protocol."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from oneteam.hub.adapter import Adapter
from oneteam.hub.device_overrides import DeviceOverride
from oneteam.hub.storage import Storage
from oneteam.model import Device, DeviceNotFound, DeviceUnavailable, Event, EventKind, Home, State, StateValue

_LOGGER = logging.getLogger(__name__)
_MISSING = object()


class Registry:
    """Devices, their owners and their current states."""

    def __init__(self, storage: Storage, publish: Callable[[Event], Event]) -> None:
        self._storage = storage
        self._publish = publish
        self._devices: dict[str, Device] = {}
        self._owners: dict[str, Adapter] = {}
        self._states: dict[str, State] = {}
        self.stored_states: dict[str, State] = {}
        """States read from storage at start: a device registered later begins from its own."""
        self.version = 0
        """Counts registrations and removals, so views built from the devices know when to rebuild."""
        self._home_view: tuple[int, Home] | None = None
        self._unavailable: dict[str, tuple[str, str | None]] = {}
        """Device id → why it is unavailable: (free text, i18n message key or None)."""
        self.overrides: dict[str, DeviceOverride] = {}
        """What the household changed (name, room, hidden), laid over each device it registers."""
        self._found: dict[str, Device] = {}
        """Each device as its integration or the home file describes it, before the overrides."""
        self.awaited: set[str] = set()
        """Devices of this home (a stored state) that an integration still connecting is expected
        to announce again (a cluster home just taken over, its MQTT devices attaching): a command
        to one is refused as unavailable for now, not as an unknown device."""

    def expect_back(self, seconds: float) -> set[str]:
        """An integration is connecting: the devices with a stored state that nobody has registered
        yet are expected from it, refused as unavailable (not unknown) for `seconds`, then, if still
        missing, unknown again (forgotten or gone). Returns them."""
        returning = set(self.stored_states) - set(self._devices)
        self.awaited |= returning
        asyncio.get_running_loop().call_later(seconds, self.awaited.difference_update, returning)
        return returning

    def register(self, device: Device, adapter: Adapter, *, announce: bool) -> None:
        """Add or update a device owned by `adapter`; `announce` publishes DEVICE_ADDED."""
        self._found[device.id] = device
        self.awaited.discard(device.id)
        override = self.overrides.get(device.id)
        if override is not None:
            device = override.over(device)
        if self._devices.get(device.id) != device:
            self.version += 1
        self._devices[device.id] = device
        self._owners[device.id] = adapter
        if device.id not in self._states:
            stored = self.stored_states.get(device.id)
            self._states[device.id] = stored or State(device_id=device.id, updated_at=time.time())
        if announce:
            self._publish(Event(kind=EventKind.DEVICE_ADDED, device_id=device.id, source=adapter.name))

    def remove(self, device_id: str, source: str) -> None:
        """A device is gone (DEVICE_REMOVED)."""
        if self._devices.pop(device_id, None) is not None:
            self.version += 1
            self._owners.pop(device_id, None)
            self._states.pop(device_id, None)
            self._found.pop(device_id, None)
            self._publish(Event(kind=EventKind.DEVICE_REMOVED, device_id=device_id, source=source))

    def override(self, override: DeviceOverride, source: str, changed: Mapping[str, Any]) -> Device:
        """Lay the household's changes over a registered device (a new object, so every view
        cached by device identity rebuilds) and publish DEVICE_CHANGED with `changed`."""
        found = self._found.get(override.device_id) or self.device(override.device_id)
        self.overrides[override.device_id] = override
        device = override.over(found)
        self._devices[device.id] = device
        self.version += 1
        self._publish(Event(kind=EventKind.DEVICE_CHANGED, device_id=device.id, data=changed, source=source))
        return device

    def knows(self, device_id: str) -> bool:
        """Whether the device is registered."""
        return device_id in self._devices

    def devices(self) -> list[Device]:
        """Every device, in registration order."""
        return list(self._devices.values())

    def device(self, device_id: str) -> Device:
        """One device, or DeviceNotFound."""
        try:
            return self._devices[device_id]
        except KeyError:
            raise DeviceNotFound(device_id) from None

    def owner(self, device_id: str) -> Adapter:
        """The adapter that carries out the device's commands (DeviceNotFound if none)."""
        self.device(device_id)
        return self._owners[device_id]

    def state(self, device_id: str) -> State:
        """A device's current state, or DeviceNotFound (a device has a state from its registration
        to its removal, so one look-up answers both)."""
        state = self._states.get(device_id)
        if state is None:
            raise DeviceNotFound(device_id)
        return state

    def target(self, device_id: str) -> tuple[Device, State, Adapter]:
        """What a command to the device needs: the device, its state and its owner, in one look-up
        (dispatch's hot path), or DeviceNotFound."""
        device = self._devices.get(device_id)
        if device is None:
            if device_id in self.awaited:
                # Not registered yet, so only a name the household gave it is known here.
                override = self.overrides.get(device_id)
                name = override.name if override is not None else None
                raise DeviceUnavailable(device_id, "(its integration is connecting)", name=name)
            raise DeviceNotFound(device_id)
        return device, self._states[device_id], self._owners[device_id]

    def states(self) -> dict[str, State]:
        """Every device's current state."""
        return dict(self._states)

    def home_view(self, home: Home) -> Home:
        """`home` with every device registered now: the home file's and those integrations found
        while running (ThinQ appliances, MQTT discovery); rebuilt only when the devices change."""
        if self._home_view is None or self._home_view[0] != self.version:
            known = dict(self._devices)
            extra = {d.id: d for d in home.devices.values() if d.id not in known}
            self._home_view = (self.version, replace(home, devices={**known, **extra}))
        return self._home_view[1]

    def apply(self, device_id: str, changes: Mapping[str, StateValue], source: str) -> None:
        """Attributes reported by `source`: the ones that changed are stored and published."""
        current = self._states.get(device_id)
        if current is None:
            _LOGGER.debug("state for unknown device %s ignored", device_id)
            return
        attributes = current.attributes
        changed: dict[str, StateValue] = {}
        for name, value in changes.items():  # a loop: a comprehension is a call of its own (3.11)
            if attributes.get(name, _MISSING) != value:
                changed[name] = value
        if not changed:
            return
        now = time.time()
        state = current.merged(changed, now)
        self._states[device_id] = state
        self._storage.put_state(state)
        self._publish(
            Event(kind=EventKind.STATE_CHANGED, device_id=device_id, data=changed, source=source, at=now)
        )

    def set_available(
        self, device_id: str, is_available: bool, reason: str, source: str, *, reason_key: str | None = None
    ) -> None:
        """Availability reported by `source`, with its reason (text, and an i18n key if any)."""
        if is_available:
            self._unavailable.pop(device_id, None)
        else:
            self._unavailable[device_id] = (reason, reason_key)
        current = self._states.get(device_id)
        if current is None or current.is_available == is_available:
            return
        state = State(
            device_id=device_id,
            attributes=current.attributes,
            is_available=is_available,
            updated_at=time.time(),
        )
        self._states[device_id] = state
        self._storage.put_state(state)
        self._publish(
            Event(
                kind=EventKind.AVAILABILITY,
                device_id=device_id,
                data={"is_available": is_available, "reason": reason, "reason_key": reason_key},
                source=source,
            )
        )

    def unavailable_reason(self, device_id: str) -> tuple[str, str | None]:
        """Why the device is unavailable: (free text, i18n key or None); ("", None) if it is not."""
        return self._unavailable.get(device_id, ("", None))


class RegistrySink:
    """The hub as seen by one adapter (hub/adapter.py's AdapterSink)."""

    def __init__(self, registry: Registry, adapter: Adapter, publish: Callable[[Event], Event]) -> None:
        self._registry = registry
        self._adapter = adapter
        self._publish = publish

    def report_state(self, device_id: str, changes: Mapping[str, StateValue]) -> None:
        self._registry.apply(device_id, changes, self._adapter.name)

    def report_event(self, device_id: str, kind: EventKind, data: Mapping[str, Any]) -> None:
        self._publish(Event(kind=kind, device_id=device_id, data=data, source=self._adapter.name))

    def report_availability(
        self, device_id: str, is_available: bool, reason: str = "", *, reason_key: str | None = None
    ) -> None:
        self._registry.set_available(
            device_id, is_available, reason, self._adapter.name, reason_key=reason_key
        )

    def add_device(self, device: Device) -> None:
        self._registry.register(device, self._adapter, announce=True)

    def remove_device(self, device_id: str) -> None:
        self._registry.remove(device_id, self._adapter.name)
