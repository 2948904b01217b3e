"""The automation tables in PostgreSQL: one home's routines, runs and marks among every home's.

`home_id` leads every key and every statement, so a home sees only its own rows (a run id of
another home is simply not found). The tables are declared as the hub's are
(hub/postgres_tables.py `Table`) and created with them by oneteam/cluster/pgschema.py, in its
schema and partition count: home_id first in every key, PARTITION BY HASH (home_id).

Calls are blocking, like `AutomationStore`'s: the engine runs them inline, and each write is
committed (autocommit) before it returns, so a run's step is durable before the run sleeps. They
borrow a connection from one pool shared by every home of the process.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg_pool import ConnectionPool

from oneteam.automation.store import (
    ROUTINE_COLUMNS,
    RUN_COLUMNS,
    RUNS_KEPT,
    RunRecord,
    StoredRoutine,
    routine_of,
    run_of,
    to_json,
)
from oneteam.hub.fence import Fence
from oneteam.hub.postgres_tables import Table

ROUTINE_TABLES = (
    Table(
        "automation_routines",
        "id TEXT NOT NULL, kind TEXT NOT NULL, body JSON NOT NULL, enabled BOOLEAN NOT NULL, "
        "origin TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL, owner JSON",
        "id",
    ),
    Table(
        "automation_runs",
        "id BIGSERIAL, routine_id TEXT NOT NULL, status TEXT NOT NULL, trigger JSON NOT NULL, "
        "started_at DOUBLE PRECISION NOT NULL, finished_at DOUBLE PRECISION, step INTEGER NOT NULL, "
        "resume_at DOUBLE PRECISION, trace JSON NOT NULL",
        "id",
        indexes=(("automation_runs_routine", "routine_id, id"), ("automation_runs_status", "status")),
    ),
    Table("automation_marks", "name TEXT NOT NULL, value DOUBLE PRECISION NOT NULL", "name"),
)
"""The automation tables as one home sees them; the shared layout puts home_id first in each key.
JSON, not JSONB: a routine keeps the key order it was written in, as in SQLite."""


class PostgresRoutineStore:
    """One home's rows of the automation tables (the `RoutineStorage` contract)."""

    def __init__(self, pool: ConnectionPool[Any], home_id: str, *, fence: Fence | None = None) -> None:
        self.pool = pool
        self.home_id = home_id
        self.fence = fence
        """Checked in each write's transaction: a process whose lease on the home is stale writes
        nothing (StorageFailed), as the hub's fenced writes (cluster/pgshared.py)."""

    def open(self) -> None:
        """Nothing to open: the pool and the tables belong to the process (tenant_stores.py)."""

    def close(self) -> None:
        """Nothing to close: the shared pool outlives each home."""

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as connection:
            rows: list[tuple[Any, ...]] = connection.execute(sql, params).fetchall()
            return rows

    def _count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """A write: the rows it changed."""
        with self.pool.connection() as connection, connection.transaction():
            if self.fence is not None:
                self.fence(connection)
            count: int = connection.execute(sql, params).rowcount
            return count

    def _written(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A write that returns rows."""
        with self.pool.connection() as connection, connection.transaction():
            if self.fence is not None:
                self.fence(connection)
            rows: list[tuple[Any, ...]] = connection.execute(sql, params).fetchall()
            return rows

    # -- routines ------------------------------------------------------------------------------

    def routines(self) -> list[StoredRoutine]:
        rows = self._rows(
            f"SELECT {ROUTINE_COLUMNS} FROM automation_routines WHERE home_id = %s ORDER BY id",
            (self.home_id,),
        )
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
        self._count(
            "INSERT INTO automation_routines (home_id, id, kind, body, enabled, origin, updated_at, owner) "
            "VALUES (%s, %s, %s, %s::json, %s, %s, %s, %s::json) "
            "ON CONFLICT (home_id, id) DO UPDATE SET kind = excluded.kind, body = excluded.body, "
            "enabled = excluded.enabled, origin = excluded.origin, updated_at = excluded.updated_at, "
            "owner = excluded.owner",
            (
                self.home_id,
                routine_id,
                kind,
                to_json(body),
                enabled,
                origin,
                time.time(),
                None if owner is None else to_json(owner),
            ),
        )

    def set_enabled(self, routine_id: str, enabled: bool) -> bool:
        return (
            self._count(
                "UPDATE automation_routines SET enabled = %s, updated_at = %s WHERE home_id = %s AND id = %s",
                (enabled, time.time(), self.home_id, routine_id),
            )
            > 0
        )

    def delete_routine(self, routine_id: str) -> bool:
        return (
            self._count(
                "DELETE FROM automation_routines WHERE home_id = %s AND id = %s", (self.home_id, routine_id)
            )
            > 0
        )

    # -- runs ----------------------------------------------------------------------------------

    def start_run(self, routine_id: str, trigger: dict[str, Any], status: str = "running") -> RunRecord:
        now = time.time()
        record = RunRecord(id=0, routine_id=routine_id, status=status, trigger=trigger, started_at=now)
        rows = self._written(
            "INSERT INTO automation_runs (home_id, routine_id, status, trigger, started_at, step, trace) "
            "VALUES (%s, %s, %s, %s::json, %s, 0, %s::json) RETURNING id",
            (self.home_id, routine_id, status, to_json(trigger), now, to_json(record.trace)),
        )
        record.id = int(rows[0][0])
        return record

    def save_run(self, run: RunRecord) -> None:
        self._count(
            "UPDATE automation_runs SET status = %s, finished_at = %s, step = %s, resume_at = %s, "
            "trace = %s::json WHERE home_id = %s AND id = %s",
            (run.status, run.finished_at, run.step, run.resume_at, to_json(run.trace), self.home_id, run.id),
        )

    def prune_runs(self, routine_id: str, keep: int = RUNS_KEPT) -> None:
        self._count(
            "DELETE FROM automation_runs WHERE home_id = %s AND routine_id = %s AND status != 'running' "
            "AND id <= (SELECT id FROM automation_runs WHERE home_id = %s AND routine_id = %s "
            "ORDER BY id DESC LIMIT 1 OFFSET %s)",
            (self.home_id, routine_id, self.home_id, routine_id, keep),
        )

    def runs(
        self, routine_id: str | None = None, limit: int = 20, status: str | None = None
    ) -> list[RunRecord]:
        clauses, params = ["home_id = %s"], [self.home_id]
        if routine_id is not None:
            clauses.append("routine_id = %s")
            params.append(routine_id)
        if status is not None:
            clauses.append("status = %s")
            params.append(status)
        rows = self._rows(
            f"SELECT {RUN_COLUMNS} FROM automation_runs WHERE {' AND '.join(clauses)} "
            "ORDER BY id DESC LIMIT %s",
            (*params, limit),
        )
        return [run_of(row) for row in rows]

    def run(self, run_id: int) -> RunRecord | None:
        rows = self._rows(
            f"SELECT {RUN_COLUMNS} FROM automation_runs WHERE home_id = %s AND id = %s",
            (self.home_id, run_id),
        )
        return run_of(rows[0]) if rows else None

    # -- marks ---------------------------------------------------------------------------------

    def mark(self, name: str) -> float | None:
        rows = self._rows(
            "SELECT value FROM automation_marks WHERE home_id = %s AND name = %s", (self.home_id, name)
        )
        return float(rows[0][0]) if rows else None

    def marks(self, prefix: str) -> dict[str, float]:
        rows = self._rows(
            "SELECT name, value FROM automation_marks WHERE home_id = %s AND left(name, %s) = %s",
            (self.home_id, len(prefix), prefix),
        )
        return {str(name): float(value) for name, value in rows}

    def delete_mark(self, name: str) -> None:
        self._count("DELETE FROM automation_marks WHERE home_id = %s AND name = %s", (self.home_id, name))

    def set_mark(self, name: str, value: float) -> None:
        self._count(
            "INSERT INTO automation_marks (home_id, name, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (home_id, name) DO UPDATE SET value = excluded.value",
            (self.home_id, name, value),
        )
