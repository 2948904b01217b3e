"""Commands to be carried out later, once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "due_at": self.due_at,
            "status": self.status,
            "source": self.source,
            "actions": [c.as_dict() for c in self.commands],
        }
