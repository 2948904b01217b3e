"""One process's way to the shared PostgreSQL tables, for all the homes it serves.

A process hosting a thousand homes must not open thousands of connections (a server allows about
a hundred): all its homes share ONE small connection pool, ONE group-commit writer (a batch holds
the writes of every home that wrote since the last one, committed in one transaction, so a
command is still acknowledged only once committed) and ONE connection listening for token
changes. What `.storage(home_id)`, `.accounts(home_id)` and `.overrides(home_id)` return holds
nothing but the home's id and this object: a home costs a few hundred bytes here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import pq
from psycopg_pool import AsyncConnectionPool

from oneteam.cluster.pgschema import PARTITIONS, TOKENS_CHANNEL, connection_options, ensure_schema
from oneteam.hub.group_commit import GroupCommit, StorageFailed
from oneteam.hub.postgres_tables import HubStatements, Layout, PostgresTables, arrived, listen, write_batch
from oneteam.model import Event, State

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

_LOGGER = logging.getLogger(__name__)

HOMES = HubStatements(Layout(PARTITIONS))
"""The hub's statements over the shared tables (the same whatever the partition count)."""

_HOME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def checked_home_id(home_id: str) -> str:
    """`home_id` when it is one (letters, digits, `_.-`, up to 64, as in topics and paths)."""
    if not isinstance(home_id, str) or not _HOME_ID.fullmatch(home_id):
        raise ValueError(f"not a home id: {home_id!r} (letters, digits, _ . -; up to 64)")
    return home_id


class SharedPostgres:
    """The shared tables at `url`, for every home of this process, on at most `pool_size`
    connections (the listening one included)."""

    def __init__(self, url: str, *, pool_size: int = 4, partitions: int = PARTITIONS) -> None:
        if pool_size < 2:
            raise ValueError("pool_size must be at least 2 (one connection listens for token changes)")
        self.url = url
        self.partitions = partitions
        self.pool = AsyncConnectionPool(
            url, min_size=1, max_size=pool_size - 1, kwargs=connection_options(), open=False, name="oneteam"
        )
        self._writes = GroupCommit(self._commit, (psycopg.Error,))
        self._listener: pq.abc.PGconn | None = None
        self._all_changes = 0
        """TRUNCATEs heard of: they change every home's tokens."""
        self._changes: dict[str, int] = {}
        """Token changes heard of, per home."""

    @property
    def is_open(self) -> bool:
        return self._writes.is_running

    async def open(self) -> None:
        """Create the tables if needed, fill the pool, listen, start the writer (once)."""
        if self.is_open:
            return
        await ensure_schema(self.url, self.partitions)
        await self.pool.open(wait=True)
        self._listener = await asyncio.to_thread(listen, self.url, TOKENS_CHANNEL)
        self._writes.start()

    async def close(self) -> None:
        """Commit what every home queued, then close the connections."""
        if not self.is_open:
            return
        await self._writes.stop()
        if self._listener is not None:
            self._listener.finish()
            self._listener = None
        await self.pool.close()

    async def _commit(self, states: list[tuple[str, State]], events: list[tuple[str, Event]]) -> None:
        async with self.pool.connection() as connection:
            await write_batch(connection, HOMES, states, events)

    def token_stamp(self, home_id: str) -> int | None:
        """A number that changes whenever a token of `home_id` may have changed (read from the
        listening connection without waiting); None when the listener is lost."""
        if self._listener is None:
            return None
        payloads = arrived(self._listener)
        if payloads is None:
            self._listener = None
            return None
        for home in payloads:
            if home == "*":
                self._all_changes += 1
            else:
                self._changes[home] = self._changes.get(home, 0) + 1
        return self._all_changes + self._changes.get(home_id, 0)

    def storage(self, home_id: str) -> HomeStorage:
        """The hub `Storage` of one home."""
        return HomeStorage(self, checked_home_id(home_id))


class HomeStorage(PostgresTables):
    """One home's `Storage` on the shared tables: its writes go to the process's writer, its
    reads to the process's pool, both limited to its own rows. Opening and closing it opens and
    closes nothing but makes sure its writes are committed: the `SharedPostgres` owns the rest."""

    __slots__ = ("_home", "_shared")
    _sql = HOMES

    def __init__(self, shared: SharedPostgres, home_id: str) -> None:
        self._shared = shared
        self._home = home_id

    @property
    def home_id(self) -> str:
        return self._home

    def _connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        return self._shared.pool.connection()

    async def open(self) -> None:
        if not self._shared.is_open:
            raise RuntimeError("open the SharedPostgres before a home's storage")

    async def close(self) -> None:
        """Commit what this home queued (a failure is logged: the shared writer goes on)."""
        try:
            await self.flush()
        except StorageFailed as exc:
            _LOGGER.error("home %s closed with writes not committed: %s", self._home, exc)

    def put_state(self, state: State) -> None:
        self._shared._writes.put_state(state, self._home)

    def put_event(self, event: Event) -> None:
        self._shared._writes.put_event(event, self._home)

    async def flush(self) -> None:
        await self._shared._writes.flush()

    def token_stamp(self) -> int | None:
        return self._shared.token_stamp(self._home)
