"""PostgreSQL storage, for homes whose hub runs beside a database server (or several API workers).

Same contract and group commit as the SQLite store: a command is acknowledged once its state is
committed. Needs the `postgres` extra (psycopg 3).

Token checks are remembered as with SQLite: a trigger on `tokens` sends a NOTIFY on the
`oneteam_tokens` channel with every change, by any process, and `token_stamp` counts the
notifications that reached a listening connection, reading its socket without waiting (a few
microseconds). The notification leaves the server when the change commits, before whoever
revoked a token hears that it is done, so the next check after a revocation sees a new stamp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from types import MappingProxyType
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.json import Jsonb

from oneteam.hub.group_commit import GroupCommit, GroupCommitted
from oneteam.hub.storage import EventQuery, TokenRecord
from oneteam.model import Command, Event, EventKind, Grant, State
from oneteam.model.schedule import Schedule

_SCHEMA = """
CREATE TABLE IF NOT EXISTS homes (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, text TEXT NOT NULL, loaded_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS states (
  device_id TEXT PRIMARY KEY, attributes JSONB NOT NULL, is_available BOOLEAN NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id BIGINT PRIMARY KEY, kind TEXT NOT NULL, device_id TEXT, source TEXT NOT NULL,
  data JSONB NOT NULL, at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS events_device ON events (device_id, id);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS schedules (
  id BIGSERIAL PRIMARY KEY, due_at DOUBLE PRECISION NOT NULL, actions JSONB NOT NULL, source TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at DOUBLE PRECISION NOT NULL
);
ALTER TABLE tokens ADD COLUMN IF NOT EXISTS door TEXT;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS booked_by JSONB;
"""

_LOGGER = logging.getLogger(__name__)
TOKENS_CHANNEL = "oneteam_tokens"


_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION oneteam_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('oneteam_tokens', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""


def notify_token_changes(*tables: str) -> str:
    """SQL that makes every change to `tables` (tokens, or tables that decide what a token may
    do: members, their sessions and tokens) wake the remembered token checks of every hub on the
    database, whichever process made it."""
    return _NOTIFY_FUNCTION + "".join(
        f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION oneteam_tokens_changed();\n"
        for table in tables
    )


def _plain(data: Any) -> Any:
    """Event data as plain JSON values (timestamps and enums as text), as the SQLite store keeps it."""
    return json.loads(json.dumps(dict(data), default=str))


class PostgresStorage(GroupCommitted):
    """The hub's storage in a PostgreSQL database (`postgresql://user@host:5432/oneteam`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._writes = GroupCommit(self._commit, (psycopg.Error,))
        self._listener: pq.abc.PGconn | None = None
        """A connection that only LISTENs on TOKENS_CHANNEL, read without waiting by `token_stamp`."""
        self._token_changes = 0

    async def open(self) -> None:
        """Connect, create the schema, listen for token changes, and start the group-commit writer."""
        if self._writes.is_running:
            return
        self._connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self._connection.execute(_SCHEMA + notify_token_changes("tokens"))
        self._listener = await asyncio.to_thread(self._listen)
        self._writes.start()

    def _listen(self) -> pq.abc.PGconn | None:
        listener = pq.PGconn.connect(self.url.encode())
        if listener.status == pq.ConnStatus.OK:
            result = listener.exec_(f"LISTEN {TOKENS_CHANNEL}".encode())
            if result.status == pq.ExecStatus.COMMAND_OK:
                return listener
        _LOGGER.warning(
            "cannot listen for token changes (%s): every token check asks the database",
            listener.get_error_message(),
        )
        listener.finish()
        return None

    async def close(self) -> None:
        """Commit what is queued and disconnect."""
        if not self._writes.is_running:
            return
        await self._writes.stop()
        if self._listener is not None:
            self._listener.finish()
            self._listener = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _require(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None:
            raise RuntimeError("storage is not open")
        return self._connection

    async def _commit(self, states: list[State], events: list[Event]) -> None:
        connection = self._require()
        async with connection.transaction(), connection.cursor() as cursor:
            if states:
                await cursor.executemany(
                    "INSERT INTO states (device_id, attributes, is_available, updated_at) "
                    "VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (device_id) DO UPDATE SET attributes = EXCLUDED.attributes, "
                    "is_available = EXCLUDED.is_available, updated_at = EXCLUDED.updated_at",
                    [(s.device_id, Jsonb(dict(s.attributes)), s.is_available, s.updated_at) for s in states],
                )
            if events:
                await cursor.executemany(
                    "INSERT INTO events (id, kind, device_id, source, data, at) "
                    "VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (id) DO NOTHING",
                    [
                        (
                            e.id,
                            e.kind.value,
                            e.device_id,
                            e.source,
                            Jsonb(json.loads(json.dumps(dict(e.data), default=str))),
                            e.at,
                        )
                        for e in events
                    ],
                )

    async def _rows(self, sql: str, params: tuple[object, ...] | list[object] = ()) -> list[tuple[Any, ...]]:
        cursor = await self._require().execute(sql, params)
        return await cursor.fetchall()

    async def load_states(self) -> dict[str, State]:
        """The last stored state of every device."""
        rows = await self._rows("SELECT device_id, attributes, is_available, updated_at FROM states")
        return {
            device_id: State(
                device_id=device_id,
                attributes=MappingProxyType(dict(attributes)),
                is_available=bool(is_available),
                updated_at=float(updated_at),
            )
            for device_id, attributes, is_available, updated_at in rows
        }

    async def save_home(self, home_id: str, source: str, text: str) -> None:
        """Keep the running home file."""
        await self._require().execute(
            "INSERT INTO homes (id, source, text, loaded_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, text = EXCLUDED.text, "
            "loaded_at = EXCLUDED.loaded_at",
            (home_id, source, text, time.time()),
        )

    async def stored_home(self) -> str | None:
        """The text of the home file that ran last."""
        rows = await self._rows("SELECT text FROM homes ORDER BY loaded_at DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    async def last_event_id(self) -> int:
        """The highest stored event id."""
        rows = await self._rows("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(rows[0][0])

    async def events(self, query: EventQuery) -> list[Event]:
        """Stored events, newest first."""
        clauses: list[str] = []
        params: list[object] = []
        if query.device_id is not None:
            clauses.append("device_id = %s")
            params.append(query.device_id)
        if query.kinds:
            clauses.append("kind = ANY(%s)")
            params.append([k.value for k in query.kinds])
        if query.before_id is not None:
            clauses.append("id < %s")
            params.append(query.before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(query.limit)
        rows = await self._rows(
            f"SELECT id, kind, device_id, source, data, at FROM events {where} ORDER BY id DESC LIMIT %s",
            params,
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
        cursor = await self._require().execute("DELETE FROM events WHERE at < %s", (older_than,))
        return cursor.rowcount

    async def add_schedule(
        self, due_at: float, actions: list[dict[str, Any]], source: str, *, grant: Grant | None = None
    ) -> int:
        """Store a pending schedule and the grant it was booked under."""
        booked_by = None if grant is None else Jsonb(grant.as_dict())
        rows = await self._rows(
            "INSERT INTO schedules (due_at, actions, source, created_at, booked_by) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (due_at, Jsonb(actions), source, time.time(), booked_by),
        )
        return int(rows[0][0])

    async def pending_schedules(self) -> list[Schedule]:
        """Schedules not yet run."""
        rows = await self._rows(
            "SELECT id, due_at, actions, source, booked_by FROM schedules WHERE status = 'pending' "
            "ORDER BY due_at"
        )
        return [
            Schedule(
                id=int(schedule_id),
                due_at=float(due_at),
                commands=tuple(Command.from_dict(a, source) for a in actions),
                source=source,
                grant=None if booked_by is None else Grant.from_dict(booked_by),
            )
            for schedule_id, due_at, actions, source, booked_by in rows
        ]

    async def finish_schedule(self, schedule_id: int, status: str) -> None:
        """Mark a schedule as run (or cancelled)."""
        await self._require().execute("UPDATE schedules SET status = %s WHERE id = %s", (status, schedule_id))

    async def add_token(
        self, name: str, token_hash: str, created_at: float, *, door: str | None = None
    ) -> TokenRecord:
        """Store a token hash."""
        rows = await self._rows(
            "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (%s, %s, %s, %s) RETURNING id",
            (name, token_hash, created_at, door),
        )
        return TokenRecord(
            id=int(rows[0][0]), name=name, token_hash=token_hash, created_at=created_at, door=door
        )

    async def tokens(self) -> list[TokenRecord]:
        """Every token record."""
        rows = await self._rows("SELECT id, name, token_hash, created_at, door FROM tokens ORDER BY id")
        return [
            TokenRecord(id=int(i), name=n, token_hash=h, created_at=float(c), door=d)
            for i, n, h, c, d in rows
        ]

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""
        rows = await self._rows(
            "SELECT id, name, token_hash, created_at, door FROM tokens WHERE token_hash = %s", (token_hash,)
        )
        if not rows:
            return None
        i, n, h, c, d = rows[0]
        return TokenRecord(id=int(i), name=n, token_hash=h, created_at=float(c), door=d)

    def token_stamp(self) -> int | None:
        """How many token changes this hub has heard of: the listening connection's socket is
        read without waiting and its notifications counted. None (every check asks the database)
        when the listening connection is gone."""
        listener = self._listener
        if listener is None:
            return None
        try:
            listener.consume_input()
            while listener.notifies() is not None:
                self._token_changes += 1
        except psycopg.Error:
            _LOGGER.warning("lost the token-change listener: every token check now asks the database")
            listener.finish()
            self._listener = None
            return None
        if listener.status != pq.ConnStatus.OK:
            self._listener = None
            return None
        return self._token_changes

    async def revoke_token(self, token_id: int) -> bool:
        """Delete one token."""
        cursor = await self._require().execute("DELETE FROM tokens WHERE id = %s", (token_id,))
        return cursor.rowcount > 0

    async def has_token_hash(self, token_hash: str) -> bool:
        """Whether a token with this hash is stored."""
        return bool(await self._rows("SELECT 1 FROM tokens WHERE token_hash = %s", (token_hash,)))
