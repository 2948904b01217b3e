"""Commands to be carried out later, once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oneteam.model.access import Grant
from oneteam.model.command import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """Commands to run once at `due_at`."""

    id: int
    due_at: float
    """Unix time, seconds."""
    commands: tuple[Command, ...]
    source: str
    status: str = "pending"
    """pending, done, failed or cancelled."""
    grant: Grant | None = None
    """Who booked it and within which limits; checked again when it falls due. None only for
    the hub's own bookings and those stored before bookings kept their grant."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "due_at": self.due_at,
            "status": self.status,
            "source": self.source,
            "booked_by": None if self.grant is None else self.grant.principal,
            "actions": [c.as_dict() for c in self.commands],
        }
