"""Events: everything that happened in the home, as one type on one bus."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class EventKind(StrEnum):
    """What an event reports."""

    STATE_CHANGED = "state_changed"
    """A device's attributes changed; `data` holds the changed attributes."""
    COMMAND = "command"
    """A command was carried out; `data` holds the command."""
    COMMAND_FAILED = "command_failed"
    """A command was refused or failed; `data` holds the command and the error key."""
    AVAILABILITY = "availability"
    """A device became available or unavailable; `data.is_available`."""
    FINISHED = "finished"
    """An appliance finished its cycle (wash done, cleaning done)."""
    WARNING = "warning"
    """A service warns about a device (predicted failure)."""
    ALERT = "alert"
    """A notice for the household (epidemic exposure)."""
    SCHEDULED = "scheduled"
    """Commands were scheduled for later; `data` holds the schedule."""
    SCHEDULE_DONE = "schedule_done"
    """A schedule ran; `data.status` is done or failed."""
    NOTICE = "notice"
    """A routine's message for the household (page, activity log); `data.text` is {ko, en}."""
    SAY = "say"
    """A sentence for the home's speakers to say aloud; `data.text` is {ko, en}."""
    ROUTINE_RUN = "routine_run"
    """A routine run started, finished a step or finished; `data.routine`, `run`, `phase`, `status`."""
    DEVICE_ADDED = "device_added"
    DEVICE_REMOVED = "device_removed"
    DEVICE_CHANGED = "device_changed"
    """A member renamed, moved, hid or showed a device; `data` holds what changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One thing that happened."""

    kind: EventKind
    device_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    source: str = "hub"
    """Who or what caused it: `api`, `voice`, `page`, `routine`, `partner:<id>`, an integration."""
    at: float = 0.0
    """Unix time, seconds."""
    id: int = 0
    """Sequence number given by the hub when the event is published (0 before)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "device_id": self.device_id,
            "data": dict(self.data),
            "source": self.source,
            "at": self.at,
        }
