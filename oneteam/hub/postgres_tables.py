"""The hub's PostgreSQL tables and statements, written once for two layouts: one home's tables
(`PostgresStorage`, hub/postgres_store.py) and the tables many homes share (oneteam/cluster/),
where every row carries its `home_id`, first in every key, and each table is partitioned by it.

Statements take named parameters; the shared layout's also take `%(home)s`. Writes name the home
column; a read is the single-home statement as it is, each table it reads narrowed to the home's
rows by a WITH clause, so every join and filter is written once for both layouts.

Token checks are remembered while nothing changed (`token_stamp`): a listening connection
(hub/token_listener.py) is read without waiting and its notifications counted, per home where the
payload names one. Running the statements: hub/postgres_rows.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from oneteam.hub.postgres_rows import PostgresRows as PostgresRows  # noqa: PLC0414 (re-exported)
from oneteam.hub.postgres_rows import PostgresSide as PostgresSide  # noqa: PLC0414 (re-exported)
from oneteam.hub.storage import EventQuery, TokenRecord
from oneteam.hub.token_listener import TokenListener as TokenListener  # noqa: PLC0414 (re-exported)
from oneteam.model import Command, Event, EventKind, Grant, State
from oneteam.model.schedule import Schedule

if TYPE_CHECKING:  # psycopg is the `postgres` extra: imported where a connection is made
    import psycopg


@dataclass(frozen=True, slots=True)
class Table:
    """A table as one home sees it: its columns and keys, without the home."""

    name: str
    columns: str
    key: str
    unique: str = ""
    indexes: tuple[tuple[str, str], ...] = ()
    """(index name, columns) pairs."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a home's rows live: its own tables (`partitions` 0), or tables shared by many homes,
    keyed by `home_id` first and split into `partitions` hash partitions of it."""

    partitions: int = 0

    @property
    def shared(self) -> bool:
        return self.partitions > 0

    def keyed(self, columns: str) -> str:
        """`columns` behind the home's, in a key of this layout."""
        return f"home_id, {columns}" if self.shared else columns

    def create(self, table: Table) -> str:
        """The statements that create `table` (and its partitions) when it does not exist."""
        home = "home_id TEXT NOT NULL, " if self.shared else ""
        unique = f", UNIQUE ({self.keyed(table.unique)})" if table.unique else ""
        split = " PARTITION BY HASH (home_id)" if self.shared else ""
        sql = [
            f"CREATE TABLE IF NOT EXISTS {table.name} ({home}{table.columns},"
            f" PRIMARY KEY ({self.keyed(table.key)}){unique}){split};"
        ]
        sql += [
            f"CREATE TABLE IF NOT EXISTS {table.name}_p{i} PARTITION OF {table.name}"
            f" FOR VALUES WITH (MODULUS {self.partitions}, REMAINDER {i});"
            for i in range(self.partitions)
        ]
        sql += [
            f"CREATE INDEX IF NOT EXISTS {name} ON {table.name} ({self.keyed(columns)});"
            for name, columns in table.indexes
        ]
        return "\n".join(sql) + "\n"

    def create_all(self, tables: tuple[Table, ...]) -> str:
        """The statements that create every one of `tables` not there yet."""
        return "".join(self.create(t) for t in tables)

    def insert(self, table: str, columns: str, *, key: str = "", update: bool = True, tail: str = "") -> str:
        """INSERT of named parameters called like the columns; on a conflict over `key`, the row is
        updated (`update`) or left as it was."""
        names = [c.strip() for c in columns.split(",")]
        if self.shared:
            names.insert(0, "home_id")
        values = ", ".join("%(home)s" if n == "home_id" else f"%({n})s" for n in names)
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"
        if key:
            keys = {k.strip() for k in self.keyed(key).split(",")}
            changed = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n not in keys)
            action = f"DO UPDATE SET {changed}" if update else "DO NOTHING"
            sql += f" ON CONFLICT ({self.keyed(key)}) {action}"
        return f"{sql} {tail}".rstrip()

    def where(self, condition: str) -> str:
        """`condition`, limited to the home's rows."""
        return f"home_id = %(home)s AND {condition}" if self.shared else condition

    def read(self, sql: str, *tables: str) -> str:
        """A single-home read, with each of `tables` narrowed to the home's rows."""
        if not self.shared:
            return sql
        narrowed = ", ".join(
            f"{t} AS NOT MATERIALIZED (SELECT * FROM {t} WHERE home_id = %(home)s)" for t in tables
        )
        return f"WITH {narrowed} {sql}"


HUB_TABLES = (
    Table(
        "homes",
        "id TEXT NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL, loaded_at DOUBLE PRECISION NOT NULL",
        "id",
    ),
    Table(
        "states",
        "device_id TEXT NOT NULL, attributes JSONB NOT NULL, is_available BOOLEAN NOT NULL,"
        " updated_at DOUBLE PRECISION NOT NULL",
        "device_id",
    ),
    Table(
        "events",
        "id BIGINT NOT NULL, kind TEXT NOT NULL, device_id TEXT, source TEXT NOT NULL, data JSONB NOT NULL,"
        " at DOUBLE PRECISION NOT NULL",
        "id",
        indexes=(("events_device", "device_id, id"), ("events_at", "at")),
    ),
    Table(
        "schedules",
        "id BIGSERIAL, due_at DOUBLE PRECISION NOT NULL, actions JSONB NOT NULL, source TEXT NOT NULL,"
        " status TEXT NOT NULL DEFAULT 'pending', created_at DOUBLE PRECISION NOT NULL, booked_by JSONB",
        "id",
    ),
    Table(
        "tokens",
        "id BIGSERIAL, name TEXT NOT NULL, token_hash TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
        " door TEXT",
        "id",
        unique="token_hash",
    ),
)
"""The tables behind the hub's `Storage`."""

_TOKEN_COLUMNS = "id, name, token_hash, created_at, door"


class HubStatements:
    """Every statement of the hub's `Storage`, for one layout (built once per layout)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.put_state = layout.insert(
            "states", "device_id, attributes, is_available, updated_at", key="device_id"
        )
        self.put_event = layout.insert(
            "events", "id, kind, device_id, source, data, at", key="id", update=False
        )
        self.save_home = layout.insert("homes", "id, source, text, loaded_at", key="id")
        self.add_schedule = layout.insert(
            "schedules", "due_at, actions, source, created_at, booked_by", tail="RETURNING id"
        )
        self.add_token = layout.insert("tokens", "name, token_hash, created_at, door", tail="RETURNING id")
        self.load_states = layout.read(
            "SELECT device_id, attributes, is_available, updated_at FROM states", "states"
        )
        self.stored_home = layout.read("SELECT text FROM homes ORDER BY loaded_at DESC LIMIT 1", "homes")
        self.last_event_id = layout.read("SELECT COALESCE(MAX(id), 0) FROM events", "events")
        self.events = layout.read(
            "SELECT id, kind, device_id, source, data, at FROM events {where} ORDER BY id DESC"
            " LIMIT %(limit)s",
            "events",
        )
        self.prune_events = f"DELETE FROM events WHERE {layout.where('at < %(before)s')}"
        self.pending_schedules = layout.read(
            "SELECT id, due_at, actions, source, booked_by FROM schedules WHERE status = 'pending'"
            " ORDER BY due_at",
            "schedules",
        )
        self.finish_schedule = f"UPDATE schedules SET status = %(status)s WHERE {layout.where('id = %(id)s')}"
        self.tokens = layout.read(f"SELECT {_TOKEN_COLUMNS} FROM tokens ORDER BY id", "tokens")
        self.token_by_hash = layout.read(
            f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE token_hash = %(token_hash)s", "tokens"
        )
        self.revoke_token = f"DELETE FROM tokens WHERE {layout.where('id = %(id)s')}"


def _plain(data: Mapping[str, Any]) -> Any:
    """Event data as plain JSON values (timestamps and enums as text), as the SQLite store keeps it."""
    return json.loads(json.dumps(dict(data), default=str))


async def write_rows(
    connection: psycopg.AsyncConnection[Any],
    sql: HubStatements,
    states: list[tuple[str, State]],
    events: list[tuple[str, Event]],
) -> None:
    """Write states and events (each beside its home) in the transaction that is open."""
    from psycopg.types.json import Jsonb

    async with connection.cursor() as cursor:
        if states:
            await cursor.executemany(
                sql.put_state,
                [
                    {
                        "home": home,
                        "device_id": s.device_id,
                        "attributes": Jsonb(dict(s.attributes)),
                        "is_available": s.is_available,
                        "updated_at": s.updated_at,
                    }
                    for home, s in states
                ],
            )
        if events:
            await cursor.executemany(
                sql.put_event,
                [
                    {
                        "home": home,
                        "id": e.id,
                        "kind": e.kind.value,
                        "device_id": e.device_id,
                        "source": e.source,
                        "data": Jsonb(_plain(e.data)),
                        "at": e.at,
                    }
                    for home, e in events
                ],
            )


def _token(row: tuple[Any, ...]) -> TokenRecord:
    i, n, h, c, d = row
    return TokenRecord(id=int(i), name=n, token_hash=h, created_at=float(c), door=d)


class PostgresTables(PostgresRows):
    """The `Storage` reads and direct writes both layouts answer alike."""

    __slots__ = ()

    _sql: HubStatements

    async def load_states(self) -> dict[str, State]:
        """The last stored state of every device."""
        return {
            device_id: State(
                device_id=device_id,
                attributes=MappingProxyType(dict(attributes)),
                is_available=bool(is_available),
                updated_at=float(updated_at),
            )
            for device_id, attributes, is_available, updated_at in await self._rows(self._sql.load_states)
        }

    async def save_home(self, home_id: str, source: str, text: str) -> None:
        """Keep the running home file."""
        await self._count(self._sql.save_home, id=home_id, source=source, text=text, loaded_at=time.time())

    async def stored_home(self) -> str | None:
        """The text of the home file that ran last."""
        rows = await self._rows(self._sql.stored_home)
        return str(rows[0][0]) if rows else None

    async def last_event_id(self) -> int:
        """The highest stored event id."""
        return int((await self._rows(self._sql.last_event_id))[0][0])

    async def events(self, query: EventQuery) -> list[Event]:
        """Stored events, newest first."""
        clauses: list[str] = []
        if query.device_id is not None:
            clauses.append("device_id = %(device_id)s")
        if query.kinds:
            clauses.append("kind = ANY(%(kinds)s)")
        if query.before_id is not None:
            clauses.append("id < %(before_id)s")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._rows(
            self._sql.events.format(where=where),
            device_id=query.device_id,
            kinds=[k.value for k in query.kinds],
            before_id=query.before_id,
            limit=query.limit,
        )
        return [
            Event(
                id=int(event_id),
                kind=EventKind(kind),
                device_id=device_id,
                source=source,
                data=MappingProxyType(dict(data)),
                at=float(at),
            )
            for event_id, kind, device_id, source, data, at in rows
        ]

    async def prune_events(self, older_than: float) -> int:
        """Delete events older than a Unix time."""
        return await self._count(self._sql.prune_events, before=older_than)

    async def add_schedule(
        self, due_at: float, actions: list[dict[str, Any]], source: str, *, grant: Grant | None = None
    ) -> int:
        """Store a pending schedule and the grant it was booked under."""
        from psycopg.types.json import Jsonb

        rows = await self._rows(
            self._sql.add_schedule,
            due_at=due_at,
            actions=Jsonb(actions),
            source=source,
            created_at=time.time(),
            booked_by=None if grant is None else Jsonb(grant.as_dict()),
        )
        return int(rows[0][0])

    async def pending_schedules(self) -> list[Schedule]:
        """Schedules not yet run."""
        return [
            Schedule(
                id=int(schedule_id),
                due_at=float(due_at),
                commands=tuple(Command.from_dict(a, source) for a in actions),
                source=source,
                grant=None if booked_by is None else Grant.from_dict(booked_by),
            )
            for schedule_id, due_at, actions, source, booked_by in await self._rows(
                self._sql.pending_schedules
            )
        ]

    async def finish_schedule(self, schedule_id: int, status: str) -> None:
        """Mark a schedule as run (or cancelled)."""
        await self._count(self._sql.finish_schedule, status=status, id=schedule_id)

    async def add_token(
        self, name: str, token_hash: str, created_at: float, *, door: str | None = None
    ) -> TokenRecord:
        """Store a token hash."""
        rows = await self._rows(
            self._sql.add_token, name=name, token_hash=token_hash, created_at=created_at, door=door
        )
        return TokenRecord(
            id=int(rows[0][0]), name=name, token_hash=token_hash, created_at=created_at, door=door
        )

    async def tokens(self) -> list[TokenRecord]:
        """Every token record."""
        return [_token(row) for row in await self._rows(self._sql.tokens)]

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""
        rows = await self._rows(self._sql.token_by_hash, token_hash=token_hash)
        return _token(rows[0]) if rows else None

    async def has_token_hash(self, token_hash: str) -> bool:
        """Whether a token with this hash is stored."""
        return await self.token_by_hash(token_hash) is not None

    async def revoke_token(self, token_id: int) -> bool:
        """Delete one token."""
        return await self._count(self._sql.revoke_token, id=token_id) > 0
