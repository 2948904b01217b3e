"""Renaming, moving, hiding and removing devices: the household's edits, checked, stored in the
overrides table and laid over the registry. `Hub.edit_device` / `Hub.remove_device` hand off here."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from oneteam.hub.adapter import ForgetsDevices
from oneteam.hub.device_overrides import MAX_NAME, DeviceOverride, OverrideStore
from oneteam.hub.registry import Registry
from oneteam.model import Device, Home, InvalidCommand


class DeviceEditInvalid(InvalidCommand):
    """A rename or move the hub cannot take (HTTP 422); `key` names the message in devices.yaml."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.key = key


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise DeviceEditInvalid("error.device_edit.empty_name", "the device name is empty")
    if len(name) > MAX_NAME:
        raise DeviceEditInvalid(
            "error.device_edit.long_name", "the device name is too long", max=MAX_NAME, length=len(name)
        )
    return name


class DeviceEditor:
    """The household's changes to devices, over one registry and one overrides table."""

    def __init__(self, home: Home, registry: Registry, overrides: OverrideStore) -> None:
        self._home = home
        self._registry = registry
        self._overrides = overrides

    async def edit(
        self, device_id: str, *, name: str | None, room: str | None, hidden: bool | None, source: str
    ) -> Device:
        self._registry.device(device_id)
        if name is not None:
            name = _clean_name(name)
        if room is not None and room not in self._home.rooms:
            raise DeviceEditInvalid("error.device_edit.unknown_room", f"no room {room!r}", room=room[:80])
        if name is None and room is None and hidden is None:
            raise DeviceEditInvalid("error.device_edit.nothing", "nothing to change")
        before = self._registry.overrides.get(device_id) or DeviceOverride(device_id=device_id)
        override = replace(
            before,
            name=before.name if name is None else name,
            room=before.room if room is None else room,
            hidden=before.hidden if hidden is None else hidden,
            removed=before.removed and (hidden is None or hidden),
            updated_at=time.time(),
        )
        await self._overrides.put(override)
        changed = {k: v for k, v in (("name", name), ("room", room), ("hidden", hidden)) if v is not None}
        return self._registry.override(override, source, changed)

    async def remove(self, device_id: str, *, source: str) -> bool:
        device = self._registry.device(device_id)
        if device_id in self._home.devices:
            # The home file still lists it: hidden and marked removed, not forgotten.
            before = self._registry.overrides.get(device_id) or DeviceOverride(device_id=device_id)
            override = replace(before, hidden=True, removed=True, updated_at=time.time())
            await self._overrides.put(override)
            self._registry.override(override, source, {"hidden": True, "removed": True})
            return False
        owner = self._registry.owner(device.id)
        await self._overrides.delete(device.id)
        self._registry.overrides.pop(device.id, None)
        self._registry.remove(device.id, source)
        if isinstance(owner, ForgetsDevices):
            # Otherwise a retained announcement (MQTT discovery) brings it back at the next start.
            await owner.forget(device.id)
        return True
