"""SQLite storage (WAL) with group commit: many queued writes become one transaction.

A command is acknowledged only after `flush()`, so what the caller saw survives a kill -9; WAL
with synchronous=NORMAL keeps every committed transaction across a process crash (not across
power loss, which needs synchronous=FULL: set `durable=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import json.encoder
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from oneteam.hub.group_commit import GroupCommit, GroupCommitted, one_home
from oneteam.hub.storage import EventQuery, TokenRecord, events_kinds_sql
from oneteam.model import Command, Event, EventKind, Grant, State
from oneteam.model.schedule import Schedule

_INLINE_WRITE_ROWS = 64


def _event_data_encoder() -> Callable[[Any], str]:
    """JSON text of an event's data, as `json.JSONEncoder(default=str).encode` writes it.

    `encode` builds its C encoder again on every call (~2 µs of a ~3 µs call for a command's
    data); this one is built once. It keeps no circular-reference markers (a dict shared across
    calls would keep a failed call's marks): data nested in itself fails on the recursion limit
    instead. Without the C accelerator, the plain encoder."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(default=str).encode
    chunks = make(None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_encode_data = _event_data_encoder()
_KIND_TEXT = {kind: kind.value for kind in EventKind}
"""An event kind's stored text by a dict look-up (an enum's `.value` is a Python-level property)."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS homes (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, text TEXT NOT NULL, loaded_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS states (
  device_id TEXT PRIMARY KEY, attributes TEXT NOT NULL, is_available INTEGER NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, device_id TEXT, source TEXT NOT NULL,
  data TEXT NOT NULL, at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_device ON events (device_id, id);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS schedules (
  id INTEGER PRIMARY KEY AUTOINCREMENT, due_at REAL NOT NULL, actions TEXT NOT NULL, source TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', created_at REAL NOT NULL, booked_by TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL, door TEXT
);
"""


def private_database(path: Path) -> None:
    """Make a SQLite file readable by its owner only: created 0600 before SQLite opens it (its
    -wal and -shm then get the same mode), and an older file and its companions set to 0600. The
    file holds token hashes, history and partner data; no other local user needs to read it."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(name).chmod(0o600)


class SqliteStorage(GroupCommitted):
    """The hub's storage in one SQLite file."""

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = Path(path)
        self._durable = durable
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = GroupCommit(one_home(self._commit), (sqlite3.Error,))

    async def open(self) -> None:
        """Create the file and schema, and start the group-commit writer (a second call does nothing)."""
        if self._writes.is_running:
            return
        await asyncio.to_thread(private_database, self.path)
        self._connection = await asyncio.to_thread(self._connect)
        self._writes.start()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={'FULL' if self._durable else 'NORMAL'}")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.executescript(_SCHEMA)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(tokens)")}
        if "door" not in columns:  # files made before tokens could name their door
            connection.execute("ALTER TABLE tokens ADD COLUMN door TEXT")
        columns = {row[1] for row in connection.execute("PRAGMA table_info(schedules)")}
        if "booked_by" not in columns:  # files made before schedules kept who booked them
            connection.execute("ALTER TABLE schedules ADD COLUMN booked_by TEXT")
        return connection

    async def close(self) -> None:
        """Commit everything queued, stop the writer and close the file."""
        if not self._writes.is_running:
            return
        await self._writes.stop()
        await asyncio.to_thread(self._close_connection)

    def _close_connection(self) -> None:
        # Under the lock: a write cancelled on the loop (its thread runs on) or a reader still in
        # a worker thread must finish before the file closes; closing under a running statement
        # crashes the interpreter, not just the statement.
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    async def _commit(self, states: list[State], events: list[Event]) -> None:
        if self._durable or len(states) + len(events) > _INLINE_WRITE_ROWS:
            await asyncio.to_thread(self._write, states, events)
        else:
            # A small WAL commit without fsync takes ~15 µs, less than handing it to a thread
            # and back (~100 µs), so it runs right here on the loop.
            self._write(states, events)

    def _write(self, states: list[State], events: list[Event]) -> None:
        with self._lock:
            connection = self._require()
            connection.execute("BEGIN")
            try:
                connection.executemany(
                    "INSERT INTO states (device_id, attributes, is_available, updated_at) "
                    "VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(device_id) DO UPDATE SET attributes=excluded.attributes, "
                    "is_available=excluded.is_available, updated_at=excluded.updated_at",
                    [
                        (s.device_id, json.dumps(dict(s.attributes)), int(s.is_available), s.updated_at)
                        for s in states
                    ],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO events (id, kind, device_id, source, data, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            e.id,
                            _KIND_TEXT[e.kind],
                            e.device_id,
                            e.source,
                            _encode_data(e.data if type(e.data) is dict else dict(e.data)),
                            e.at,
                        )
                        for e in events
                    ],
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _require(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("storage is not open")
        return self._connection

    def _query(self, sql: str, params: tuple[object, ...] | list[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            connection = self._require()
            return connection.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: tuple[object, ...] = ()) -> int:
        """Run one statement; return the rows it changed."""
        with self._lock:
            connection = self._require()
            return connection.execute(sql, params).rowcount

    def _insert(self, sql: str, params: tuple[object, ...]) -> int:
        """Run one INSERT; return the new row's id."""
        with self._lock:
            connection = self._require()
            return int(connection.execute(sql, params).lastrowid or 0)

    async def load_states(self) -> dict[str, State]:
        """The last stored state of every device."""
        rows = await asyncio.to_thread(
            self._query, "SELECT device_id, attributes, is_available, updated_at FROM states"
        )
        return {
            str(device_id): State(
                device_id=str(device_id),
                attributes=MappingProxyType(json.loads(str(attributes))),
                is_available=bool(is_available),
                updated_at=float(str(updated_at)),
            )
            for device_id, attributes, is_available, updated_at in rows
        }

    async def save_home(self, home_id: str, source: str, text: str) -> None:
        """Keep the running home file."""
        await asyncio.to_thread(
            self._execute,
            "INSERT OR REPLACE INTO homes (id, source, text, loaded_at) VALUES (?, ?, ?, ?)",
            (home_id, source, text, time.time()),
        )

    async def stored_home(self) -> str | None:
        """The text of the home file that ran last."""
        rows = await asyncio.to_thread(self._query, "SELECT text FROM homes ORDER BY loaded_at DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    async def last_event_id(self) -> int:
        """The highest stored event id."""
        rows = await asyncio.to_thread(self._query, "SELECT COALESCE(MAX(id), 0) FROM events")
        return int(str(rows[0][0]))

    async def events(self, query: EventQuery) -> list[Event]:
        """Stored events, newest first."""
        clauses: list[str] = []
        params: list[object] = []
        if query.device_id is not None:
            clauses.append("device_id = ?")
            params.append(query.device_id)
        kinds_clause, kinds_params = events_kinds_sql(query.kinds)
        if kinds_clause:
            clauses.append(kinds_clause)
            params.extend(kinds_params)
        if query.before_id is not None:
            clauses.append("id < ?")
            params.append(query.before_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.append(query.limit)
        rows = await asyncio.to_thread(
            self._query,
            f"SELECT id, kind, device_id, source, data, at FROM events {where} ORDER BY id DESC LIMIT ?",
            params,
        )
        return [
            Event(
                id=int(str(event_id)),
                kind=EventKind(str(kind)),
                device_id=None if device_id is None else str(device_id),
                source=str(source),
                data=MappingProxyType(json.loads(str(data))),
                at=float(str(at)),
            )
            for event_id, kind, device_id, source, data, at in rows
        ]

    async def prune_events(self, older_than: float) -> int:
        """Delete events older than `older_than` (Unix time)."""
        return await asyncio.to_thread(self._execute, "DELETE FROM events WHERE at < ?", (older_than,))

    async def add_schedule(
        self, due_at: float, actions: list[dict[str, Any]], source: str, *, grant: Grant | None = None
    ) -> int:
        """Store a pending schedule and the grant it was booked under."""
        booked_by = None if grant is None else json.dumps(grant.as_dict())
        return await asyncio.to_thread(
            self._insert,
            "INSERT INTO schedules (due_at, actions, source, created_at, booked_by) VALUES (?, ?, ?, ?, ?)",
            (due_at, json.dumps(actions), source, time.time(), booked_by),
        )

    async def pending_schedules(self) -> list[Schedule]:
        """Schedules not yet run."""
        rows = await asyncio.to_thread(
            self._query,
            "SELECT id, due_at, actions, source, booked_by FROM schedules WHERE status = 'pending' "
            "ORDER BY due_at",
        )
        return [
            Schedule(
                id=int(str(schedule_id)),
                due_at=float(str(due_at)),
                commands=tuple(Command.from_dict(a, str(source)) for a in json.loads(str(actions))),
                source=str(source),
                grant=None if booked_by is None else Grant.from_dict(json.loads(str(booked_by))),
            )
            for schedule_id, due_at, actions, source, booked_by in rows
        ]

    async def finish_schedule(self, schedule_id: int, status: str) -> None:
        """Mark a schedule as run (or cancelled)."""
        await asyncio.to_thread(
            self._execute, "UPDATE schedules SET status = ? WHERE id = ?", (status, schedule_id)
        )

    async def add_token(
        self, name: str, token_hash: str, created_at: float, *, door: str | None = None
    ) -> TokenRecord:
        """Store a token hash."""
        token_id = await asyncio.to_thread(
            self._insert,
            "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (?, ?, ?, ?)",
            (name, token_hash, created_at, door),
        )
        return TokenRecord(id=token_id, name=name, token_hash=token_hash, created_at=created_at, door=door)

    async def tokens(self) -> list[TokenRecord]:
        """Every token record."""
        rows = await asyncio.to_thread(
            self._query, "SELECT id, name, token_hash, created_at, door FROM tokens ORDER BY id"
        )
        return [_token_record(row) for row in rows]

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, or None."""
        rows = await asyncio.to_thread(
            self._query,
            "SELECT id, name, token_hash, created_at, door FROM tokens WHERE token_hash = ?",
            (token_hash,),
        )
        return _token_record(rows[0]) if rows else None

    def token_stamp(self) -> int | None:
        """SQLite's data_version: it changes when another connection (the CLI revoking a token)
        commits to the file. A pragma read of a few microseconds, so it runs on the loop."""
        connection = self._connection
        # A writer thread holding the connection: answer "unknown" rather than block the loop.
        if connection is None or not self._lock.acquire(blocking=False):
            return None
        try:
            return int(connection.execute("PRAGMA data_version").fetchone()[0])
        finally:
            self._lock.release()

    async def revoke_token(self, token_id: int) -> bool:
        """Delete one token."""
        return await asyncio.to_thread(self._execute, "DELETE FROM tokens WHERE id = ?", (token_id,)) > 0

    async def has_token_hash(self, token_hash: str) -> bool:
        """Whether a token with this hash is stored."""
        rows = await asyncio.to_thread(
            self._query, "SELECT 1 FROM tokens WHERE token_hash = ?", (token_hash,)
        )
        return bool(rows)


def _token_record(row: tuple[object, ...]) -> TokenRecord:
    token_id, name, token_hash, created_at, door = row
    return TokenRecord(
        id=int(str(token_id)),
        name=str(name),
        token_hash=str(token_hash),
        created_at=float(str(created_at)),
        door=str(door) if door is not None else None,
    )
