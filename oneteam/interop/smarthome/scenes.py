"""The home's routines and scenes at the partner door: SCENE devices with the Scene trait.

A partner sees a routine as `routine:<id>` (a colon never appears in a device id) when the link's
grant permits every command the routine sends, through its scenes and the routines it runs — so
a link limited to the lights cannot reach the door lock through "외출 모드". `ActivateScene` runs
it through the automation engine under the link's grant (`oneteam.hub.routines`); scenes are not
reversible (`sceneReversible: false`: a scene sets states, nothing remembers the ones before).

A routine that sends a command its device confirms (docs/partner-door.md) asks the partner for an
acknowledgement; one that would need a device's PIN is not offered to partners at all, since one
ActivateScene cannot carry several devices' PINs. A routine that only notifies is no scene and
is not offered either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from oneteam import __version__
from oneteam.hub import Hub
from oneteam.hub.routines import RoutineEntry, has_routines, routines_of
from oneteam.model import DeviceNotFound, Grant, NotFound, OneteamError, PermissionDenied
from oneteam.model.safety import confirmation_of
from oneteam.model.state_rules import base_name

_LOGGER = logging.getLogger(__name__)

PREFIX = "routine:"
SCENE_TYPE = "action.devices.types.SCENE"
SCENE_TRAIT = "action.devices.traits.Scene"
ACTIVATE = "action.devices.commands.ActivateScene"
WAIT_S = 5.0
"""How long EXECUTE waits for a routine's run to end before answering that it runs."""
MAX_DEPTH = 16


def routine_of(device_id: str) -> str | None:
    """The routine id behind a partner's device id, or None for a device."""
    return device_id.removeprefix(PREFIX) if device_id.startswith(PREFIX) else None


def _commands(
    entry: RoutineEntry, catalog: Mapping[str, RoutineEntry], depth: int = 0
) -> Iterator[tuple[str, str]]:
    """(device, command) for every command the routine may send, through scenes and runs."""
    data = entry.data
    for step in [*data.get("targets", ()), *data.get("actions", ())]:
        if not isinstance(step, Mapping):
            continue
        if "device" in step and "command" in step:
            yield str(step["device"]), str(step["command"])
        nested = step.get("scene") or step.get("run")
        if isinstance(nested, str) and nested in catalog and depth < MAX_DEPTH:
            yield from _commands(catalog[nested], catalog, depth + 1)


class Scenes:
    """Routines as partner SCENE devices, for one hub."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def offered(self, grant: Grant) -> list[RoutineEntry]:
        """The enabled routines this grant may run and that need no PIN."""
        if not has_routines(self._hub):
            return []
        catalog = {e.id: e for e in routines_of(self._hub).catalog()}
        return [e for e in catalog.values() if e.enabled and self._needs(e, catalog, grant) != "refused"]

    def _needs(self, entry: RoutineEntry, catalog: Mapping[str, RoutineEntry], grant: Grant) -> str | None:
        """`refused` (the grant does not reach a command, a PIN would be needed, or it sends no
        command at all: a notice-only routine is no scene), `ack`, or None."""
        needs: str | None = None
        commands = list(_commands(entry, catalog))
        if not commands:
            return "refused"
        for device_id, command in commands:
            try:
                device = self._hub.device(device_id)
            except DeviceNotFound:
                return "refused"
            if not grant.permits(device, command):
                return "refused"
            confirm = confirmation_of(device)
            kind = confirm.kind_for(base_name(command)) if confirm is not None else None
            if kind == "pin":
                return "refused"
            needs = needs or kind
        return needs

    def _find(self, grant: Grant, routine_id: str) -> tuple[RoutineEntry, str | None] | None:
        if not has_routines(self._hub):
            return None
        catalog = {e.id: e for e in routines_of(self._hub).catalog()}
        entry = catalog.get(routine_id)
        if entry is None or not entry.enabled:
            return None
        needs = self._needs(entry, catalog, grant)
        return None if needs == "refused" else (entry, needs)

    def sync_entry(self, entry: RoutineEntry) -> dict[str, Any]:
        """One routine as SYNC lists it."""
        name = entry.name("ko")
        others = [n for n in dict.fromkeys(entry.names.values()) if n != name]
        return {
            "id": PREFIX + entry.id,
            "type": SCENE_TYPE,
            "traits": [SCENE_TRAIT],
            "name": {"name": name, "nicknames": others, "defaultNames": []},
            "willReportState": False,
            "deviceInfo": {"manufacturer": "oneteam", "model": entry.kind, "swVersion": __version__},
            "attributes": {"sceneReversible": False},
        }

    def query_state(self, grant: Grant, device_id: str) -> dict[str, Any]:
        """A scene has no state: online when the link may run it."""
        if self._find(grant, routine_of(device_id) or "") is None:
            return {"online": False, "status": "ERROR", "errorCode": "deviceNotFound"}
        return {"online": True, "status": "SUCCESS"}

    async def activate(
        self, grant: Grant, device_id: str, command: str, params: Mapping[str, Any], challenge: object
    ) -> tuple[str, str | None, str | None]:
        """(status, errorCode, challenge type) for one ActivateScene."""
        found = self._find(grant, routine_of(device_id) or "")
        refused = _refusal(found, command, params, challenge)
        if refused is not None or found is None:
            return refused or ("ERROR", "deviceNotFound", None)
        try:
            run = await routines_of(self._hub).activate(found[0].id, grant=grant, wait_s=WAIT_S)
        except (PermissionDenied, NotFound):
            return "ERROR", "deviceNotFound", None
        except OneteamError as exc:
            _LOGGER.info("partner scene %s refused: %s", found[0].id, exc.key)
            return "ERROR", "deviceBusy" if exc.key == "automation.busy" else "transientError", None
        # running: started, its delays go on in the hub
        ok = str(run.get("status", "")) in ("done", "running")
        return ("SUCCESS", None, None) if ok else ("ERROR", "sceneCannotBeApplied", None)


def _refusal(
    found: tuple[RoutineEntry, str | None] | None, command: str, params: Mapping[str, Any], challenge: object
) -> tuple[str, str | None, str | None] | None:
    """Why an ActivateScene may not run yet, or None."""
    if found is None:
        return "ERROR", "deviceNotFound", None
    if command != ACTIVATE:
        return "ERROR", "functionNotSupported", None
    if params.get("deactivate") is True:
        return "ERROR", "actionNotAvailable", None  # not reversible (sceneReversible: false)
    if found[1] == "ack" and not (isinstance(challenge, Mapping) and challenge.get("ack") is True):
        return "ERROR", "challengeNeeded", "ackNeeded"
    return None
