"""What the hub needs from storage, as one small interface (SQLite now; PostgreSQL can join behind it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from oneteam.model import Event, EventKind, Grant, State
from oneteam.model.schedule import Schedule


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """A bearer token as stored: never the token itself, only its hash."""

    id: int
    name: str
    token_hash: str
    created_at: float
    door: str | None = None
    """The door a token is handed to (`mcp` for an MCP server over REST): what the activity log
    shows for it instead of the door it connects through. None for a person's or an app's token."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EventQuery:
    """Which stored events to read, newest first."""

    device_id: str | None = None
    kinds: tuple[EventKind, ...] = ()
    before_id: int | None = None
    limit: int = 100


class Storage(Protocol):
    """Durable storage for the hub. Writes are queued and committed in groups; `flush` waits for them."""

    async def open(self) -> None:
        """Create or migrate the schema and start writing (a second call does nothing)."""

    async def close(self) -> None:
        """Commit what is queued and close."""

    def put_state(self, state: State) -> None:
        """Queue a device's latest state (later puts for the same device replace earlier ones)."""

    def put_event(self, event: Event) -> None:
        """Queue an event for the history."""

    async def flush(self) -> None:
        """Return once everything queued before the call is committed."""

    async def load_states(self) -> dict[str, State]:
        """The last stored state of every device."""

    async def save_home(self, home_id: str, source: str, text: str) -> None:
        """Keep the home file that is running (its text and where it came from)."""

    async def stored_home(self) -> str | None:
        """The text of the home file that ran last, if any."""

    async def last_event_id(self) -> int:
        """The highest event id stored (0 when none)."""

    async def events(self, query: EventQuery) -> list[Event]:
        """Stored events matching `query`, newest first."""

    async def prune_events(self, older_than: float) -> int:
        """Delete events older than a Unix time; return how many."""

    async def add_schedule(
        self, due_at: float, actions: list[dict[str, Any]], source: str, *, grant: Grant | None = None
    ) -> int:
        """Store a pending schedule with the grant of whoever booked it; return its id."""

    async def pending_schedules(self) -> list[Schedule]:
        """Every schedule not yet run, each with the grant it was booked under."""

    async def finish_schedule(self, schedule_id: int, status: str) -> None:
        """Mark a schedule done, failed or cancelled."""

    async def add_token(
        self, name: str, token_hash: str, created_at: float, *, door: str | None = None
    ) -> TokenRecord:
        """Store a new token's hash."""

    async def tokens(self) -> list[TokenRecord]:
        """Every stored token record."""

    async def revoke_token(self, token_id: int) -> bool:
        """Delete a token; False when there was none with that id."""

    async def has_token_hash(self, token_hash: str) -> bool:
        """Whether a token with this hash exists."""

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""

    def token_stamp(self) -> int | None:
        """A number that changes whenever another process may have changed the tokens (cheap,
        called per request); None when the backend has no such number (then every check asks)."""


def events_kinds_sql(kinds: Sequence[EventKind]) -> tuple[str, list[str]]:
    """A SQL `kind IN (...)` clause and its parameters (empty clause for no filter)."""
    if not kinds:
        return "", []
    return f"kind IN ({', '.join('?' for _ in kinds)})", [k.value for k in kinds]
