"""The home's routines and scenes as every door sees them, without importing the automation room.

The automation engine registers itself here at start-up (`attach_routines`); voice, MCP and the
partner door find it with `routines_of(hub)`. Every call that acts or changes something takes the
door's Grant: the grant must permit every command the routine would send.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from oneteam.model import Grant, OneteamError

if TYPE_CHECKING:
    from oneteam.hub.core import Hub


class RoutinesUnavailable(OneteamError):
    """The hub runs without its automation engine."""

    key = "automation.not_running"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutineEntry:
    """One routine or scene, as a door lists it."""

    id: str
    kind: str
    """`scene` or `automation`."""
    names: Mapping[str, str]
    enabled: bool
    phrases: tuple[str, ...] = ()
    """Spoken phrases that name it too (its `phrase:` triggers)."""
    running: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)
    """The full definition (what export writes)."""
    devices: tuple[str, ...] = ()
    """Every device it may command (through its scenes and the routines it runs): a door lists
    it only to callers shown all of them."""

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("ko") or next(iter(self.names.values()), self.id)


class Routines(Protocol):
    """What the automation engine offers the doors."""

    def catalog(self) -> list[RoutineEntry]:
        """Every routine and scene the home has."""

    async def activate(self, routine_id: str, *, grant: Grant, wait_s: float = 0.0) -> dict[str, Any]:
        """Run a routine now or apply a scene, as the caller (the grant must permit every command
        it sends); returns the run with its trace."""

    async def set_enabled(self, routine_id: str, enabled: bool, *, grant: Grant | None) -> RoutineEntry:
        """Switch a routine's triggers on or off (the grant must permit its commands); stored
        before it returns."""

    async def create(self, data: Mapping[str, Any], *, grant: Grant | None, origin: str) -> RoutineEntry:
        """Check and store a new routine (refused with the reason when it does not fit)."""

    def check(self, data: Mapping[str, Any], *, grant: Grant | None) -> None:
        """Raise the reason a routine would be refused, storing nothing."""


_ATTACHED: weakref.WeakKeyDictionary[Hub, Routines] = weakref.WeakKeyDictionary()


def attach_routines(hub: Hub, routines: Routines | None) -> None:
    """Register (or, with None, remove) the hub's routines (the engine does this at start)."""
    if routines is None:
        _ATTACHED.pop(hub, None)
    else:
        _ATTACHED[hub] = routines


def routines_of(hub: Hub) -> Routines:
    """The hub's routines, or RoutinesUnavailable."""
    found = _ATTACHED.get(hub)
    if found is None:
        raise RoutinesUnavailable("the automation engine is not running")
    return found


def has_routines(hub: Hub) -> bool:
    return hub in _ATTACHED
