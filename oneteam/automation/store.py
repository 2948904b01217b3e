"""The automation room's own tables, in the hub's SQLite file: routines, runs (state + trace), marks.

They live beside the hub's tables rather than in the `Storage` protocol: the protocol stays the
hub's small contract (states, events, schedules, tokens) that every backend must implement, and
this room can change its tables without touching the hub or the PostgreSQL store. A hub on
PostgreSQL keeps them there instead, one home's rows of shared partitioned tables
(`RoutineStorage` is the contract; oneteam/cluster/routine_tables.py the PostgreSQL side), so a
home that moves to another process finds its routines and runs.

Writes are small and run inline on the event loop (a WAL commit without fsync is ~15 µs), so a
run's step is committed before the run sleeps in a delay: a kill -9 cannot lose it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from oneteam.hub.sqlite_store import private_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS automation_routines (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, enabled INTEGER NOT NULL,
  origin TEXT NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS automation_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, routine_id TEXT NOT NULL, status TEXT NOT NULL,
  trigger TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL, step INTEGER NOT NULL,
  resume_at REAL, trace TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS automation_runs_routine ON automation_runs (routine_id, id);
CREATE INDEX IF NOT EXISTS automation_runs_status ON automation_runs (status);
CREATE TABLE IF NOT EXISTS automation_marks (name TEXT PRIMARY KEY, value REAL NOT NULL);
"""
RUNS_KEPT = 50
"""Finished runs kept per routine (older traces are pruned)."""


@dataclass(slots=True, kw_only=True)
class StoredRoutine:
    id: str
    kind: str
    body: dict[str, Any]
    enabled: bool
    origin: str
    """Who made it: `api`, `cli`, `home` (the home file), `preset`."""
    updated_at: float
    owner: dict[str, Any] | None = None
    """The saver's Grant (`Grant.as_dict`), checked again at each run; None: the household's own."""


@dataclass(slots=True, kw_only=True)
class RunRecord:
    """One run of a routine: where it is, and its trace so far."""

    id: int
    routine_id: str
    status: str
    """running, done, failed, stopped (conditions), restarted, skipped, interrupted."""
    trigger: dict[str, Any]
    started_at: float
    finished_at: float | None = None
    step: int = 0
    """The index of the action being run (where a resumed run continues)."""
    resume_at: float | None = None
    """While in a delay or wait: when it ends (persisted so a restart can resume it)."""
    trace: dict[str, Any] = field(default_factory=lambda: {"conditions": [], "steps": [], "notes": []})

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "routine": self.routine_id,
            "status": self.status,
            "trigger": self.trigger,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "step": self.step,
            "resume_at": self.resume_at,
            **self.trace,
        }


class RoutineStorage(Protocol):
    """What the engine needs of its tables, whichever database holds them: `AutomationStore`
    (the hub's SQLite file) or, for a hub on PostgreSQL, one home's rows of the shared tables
    (oneteam/cluster/routine_tables.py). Calls are blocking and short; writes are committed when
    they return (a run's step before it sleeps)."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def routines(self) -> list[StoredRoutine]: ...
    def put_routine(
        self,
        routine_id: str,
        kind: str,
        body: dict[str, Any],
        enabled: bool,
        origin: str,
        owner: dict[str, Any] | None = None,
    ) -> None: ...
    def set_enabled(self, routine_id: str, enabled: bool) -> bool: ...
    def delete_routine(self, routine_id: str) -> bool: ...
    def start_run(self, routine_id: str, trigger: dict[str, Any], status: str = "running") -> RunRecord: ...
    def save_run(self, run: RunRecord) -> None: ...
    def prune_runs(self, routine_id: str, keep: int = RUNS_KEPT) -> None: ...
    def runs(
        self, routine_id: str | None = None, limit: int = 20, status: str | None = None
    ) -> list[RunRecord]: ...
    def run(self, run_id: int) -> RunRecord | None: ...
    def mark(self, name: str) -> float | None: ...
    def marks(self, prefix: str) -> dict[str, float]: ...
    def delete_mark(self, name: str) -> None: ...
    def set_mark(self, name: str, value: float) -> None: ...


ROUTINE_COLUMNS = "id, kind, body, enabled, origin, updated_at, owner"
RUN_COLUMNS = "id, routine_id, status, trigger, started_at, finished_at, step, resume_at, trace"
"""The columns `routine_of` and `run_of` read, in their order (SQLite and PostgreSQL alike)."""


def to_json(value: Any) -> str:
    """A routine's body, owner, a run's trigger or trace as stored: the key order kept as written;
    datetimes and enums in traces written as text."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _stored(value: Any) -> Any:
    # SQLite hands JSON columns back as text; psycopg has already decoded PostgreSQL's JSON. These
    # columns always hold an object, never a bare JSON string, so a str here is still encoded.
    return json.loads(value) if isinstance(value, str | bytes) else value


def routine_of(row: Sequence[Any]) -> StoredRoutine:
    """A routine from its ROUTINE_COLUMNS row."""
    return StoredRoutine(
        id=str(row[0]),
        kind=str(row[1]),
        body=_stored(row[2]),
        enabled=bool(row[3]),
        origin=str(row[4]),
        updated_at=float(row[5]),
        owner=None if row[6] is None else _stored(row[6]),
    )


def run_of(row: Sequence[Any]) -> RunRecord:
    """A run from its RUN_COLUMNS row."""
    return RunRecord(
        id=int(row[0]),
        routine_id=str(row[1]),
        status=str(row[2]),
        trigger=_stored(row[3]),
        started_at=float(row[4]),
        finished_at=None if row[5] is None else float(row[5]),
        step=int(row[6]),
        resume_at=None if row[7] is None else float(row[7]),
        trace=_stored(row[8]),
    )


@dataclass(frozen=True, slots=True)
class _Done:
    """A statement run to its end: its rows, how many it changed, the row it inserted."""

    rows: list[Any]
    rowcount: int
    lastrowid: int | None

    def fetchall(self) -> list[Any]:
        return self.rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


class AutomationStore:
    """Routines and runs in SQLite."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def open(self) -> None:
        private_database(self.path)  # owner-only, like the hub's own opening of this file
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.executescript(_SCHEMA)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(automation_routines)")}
        if "owner" not in columns:  # a file from before routines kept who saved them
            connection.execute("ALTER TABLE automation_routines ADD COLUMN owner TEXT")
        self._connection = connection

    def close(self) -> None:
        # Under the lock, so a statement still running in a worker thread finishes first.
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> _Done:
        # The statement is run and read to its end under the lock: the engine calls in from worker
        # threads, and a half-read SELECT keeps a read snapshot open on the shared connection, so a
        # write from another thread would have to upgrade a stale snapshot ("database is locked",
        # at once, whatever the busy timeout).
        with self._lock:
            if self._connection is None:
                raise RuntimeError("automation store is not open")
            cursor = self._connection.execute(sql, params)
            return _Done(cursor.fetchall(), cursor.rowcount, cursor.lastrowid)

    # -- routines ------------------------------------------------------------------------------

    def routines(self) -> list[StoredRoutine]:
        rows = self._run(f"SELECT {ROUTINE_COLUMNS} FROM automation_routines ORDER BY id").fetchall()
        return [routine_of(row) for row in rows]

    def put_routine(
        self,
        routine_id: str,
        kind: str,
        body: dict[str, Any],
        enabled: bool,
        origin: str,
        owner: dict[str, Any] | None = None,
    ) -> None:
        self._run(
            "INSERT INTO automation_routines (id, kind, body, enabled, origin, updated_at, owner) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, body=excluded.body, enabled=excluded.enabled, "
            "origin=excluded.origin, updated_at=excluded.updated_at, owner=excluded.owner",
            (
                routine_id,
                kind,
                to_json(body),
                int(enabled),
                origin,
                time.time(),
                None if owner is None else to_json(owner),
            ),
        )

    def set_enabled(self, routine_id: str, enabled: bool) -> bool:
        return (
            self._run(
                "UPDATE automation_routines SET enabled = ?, updated_at = ? WHERE id = ?",
                (int(enabled), time.time(), routine_id),
            ).rowcount
            > 0
        )

    def delete_routine(self, routine_id: str) -> bool:
        return self._run("DELETE FROM automation_routines WHERE id = ?", (routine_id,)).rowcount > 0

    # -- runs ----------------------------------------------------------------------------------

    def start_run(self, routine_id: str, trigger: dict[str, Any], status: str = "running") -> RunRecord:
        now = time.time()
        record = RunRecord(id=0, routine_id=routine_id, status=status, trigger=trigger, started_at=now)
        cursor = self._run(
            "INSERT INTO automation_runs (routine_id, status, trigger, started_at, step, trace) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            (
                routine_id,
                status,
                to_json(trigger),
                now,
                to_json(record.trace),
            ),
        )
        record.id = int(cursor.lastrowid or 0)
        return record

    def save_run(self, run: RunRecord) -> None:
        self._run(
            "UPDATE automation_runs SET status = ?, finished_at = ?, step = ?, resume_at = ?, trace = ? "
            "WHERE id = ?",
            (
                run.status,
                run.finished_at,
                run.step,
                run.resume_at,
                to_json(run.trace),
                run.id,
            ),
        )

    def prune_runs(self, routine_id: str, keep: int = RUNS_KEPT) -> None:
        self._run(
            "DELETE FROM automation_runs WHERE routine_id = ? AND status != 'running' AND id <= "
            "(SELECT id FROM automation_runs WHERE routine_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (routine_id, routine_id, keep),
        )

    def runs(
        self, routine_id: str | None = None, limit: int = 20, status: str | None = None
    ) -> list[RunRecord]:
        clauses, params = [], []
        if routine_id is not None:
            clauses.append("routine_id = ?")
            params.append(routine_id)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._run(
            f"SELECT {RUN_COLUMNS} FROM automation_runs {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [run_of(row) for row in rows]

    def run(self, run_id: int) -> RunRecord | None:
        row = self._run(
            f"SELECT {RUN_COLUMNS} FROM automation_runs WHERE id = ?",
            (run_id,),
        ).fetchone()
        return None if row is None else run_of(row)

    # -- marks ---------------------------------------------------------------------------------

    def mark(self, name: str) -> float | None:
        row = self._run("SELECT value FROM automation_marks WHERE name = ?", (name,)).fetchone()
        return None if row is None else float(row[0])

    def marks(self, prefix: str) -> dict[str, float]:
        rows = self._run(
            "SELECT name, value FROM automation_marks WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        return {str(name): float(value) for name, value in rows}

    def delete_mark(self, name: str) -> None:
        self._run("DELETE FROM automation_marks WHERE name = ?", (name,))

    def set_mark(self, name: str, value: float) -> None:
        self._run(
            "INSERT INTO automation_marks (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, value),
        )
