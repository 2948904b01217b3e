"""One process's way to the shared PostgreSQL tables, for all the homes it serves.

A process hosting a thousand homes must not open thousands of connections (a server allows about
a hundred): all its homes share ONE small pool for reads, ONE group-commit writer on a connection
of its own (a batch holds the writes of the homes a command waits for and up to BATCH_ROWS others,
committed in one transaction, so a command is still acknowledged only once committed) and ONE
connection listening for token changes. What `.storage(home_id)`, `.accounts(home_id)` and
`.overrides(home_id)` return holds nothing but the home's id and this object: a home costs a few
hundred bytes here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from oneteam.cluster.opening_reads import HOME_ACCOUNTS, HOME_OVERRIDES, HOMES, OpeningReads
from oneteam.cluster.pgschema import PARTITIONS, TOKENS_CHANNEL, connection_options, ensure_schema
from oneteam.cluster.pgwrite import LEASES, write_batch
from oneteam.hub.accounts_db import PostgresAccountTables
from oneteam.hub.accounts_store import KnownCredentials
from oneteam.hub.device_overrides import PostgresOverrideTables
from oneteam.hub.fence import Fence
from oneteam.hub.group_commit import GroupCommit, StorageFailed
from oneteam.hub.postgres_tables import PostgresRows, PostgresTables, TokenListener
from oneteam.model import Event, State

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

_LOGGER = logging.getLogger(__name__)

LISTEN_CHECK_S = 1.0
"""How often the listening connection is checked (a few microseconds without waiting)."""
LISTEN_RETRY_MAX_S = 10.0

POOL_SIZE = 8
"""Connections per process: the token listener, the writer's own and the rest for reads."""
BATCH_ROWS = 500
"""Rows (states and events) a group-commit batch takes beyond those of homes a command waits for:
a survivor's takeover queues thousands (its homes' devices re-attaching), and a command's commit
must not wait behind all of them (hub/group_commit.py)."""

_HOME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def checked_home_id(home_id: str) -> str:
    """`home_id` when it is one (letters, digits, `_.-`, up to 64, as in topics and paths)."""
    if not isinstance(home_id, str) or not _HOME_ID.fullmatch(home_id):
        raise ValueError(f"not a home id: {home_id!r} (letters, digits, _ . -; up to 64)")
    return home_id


def lease_fence(home_id: str, epoch: int) -> Fence:
    """The fence of a home's side stores (routines, partner links) at this process's lease
    `epoch`: a write is refused (StorageFailed) once another process has taken the lease. The
    lease row stays key-share locked until the write commits, so a takeover (FOR UPDATE, lease.py)
    waits for it, while renewals (no-key updates) do not."""

    def check(connection: psycopg.Connection[Any]) -> None:
        row = connection.execute(
            f"SELECT epoch FROM {LEASES} WHERE home_id = %s FOR KEY SHARE", (home_id,)
        ).fetchone()
        current = None if row is None else int(row[0])
        if current != epoch:
            reason = f"home {home_id} is no longer served here (lease epoch {current}, ours {epoch})"
            _LOGGER.warning("side-store write refused: %s", reason)
            raise StorageFailed(reason)

    return check


class SharedPostgres:
    """The shared tables at `url`, for every home of this process, on at most `pool_size`
    connections (the listening one included)."""

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE, partitions: int = PARTITIONS) -> None:
        if pool_size < 3:
            raise ValueError(
                "pool_size must be at least 3 (one connection listens for token changes, one writes)"
            )
        self.url = url
        self.partitions = partitions
        self.pool = AsyncConnectionPool(
            url, min_size=1, max_size=pool_size - 2, kwargs=connection_options(), open=False, name="oneteam"
        )
        # The writer's own connection: a command's commit must not queue behind reads (a survivor's
        # first token checks of hundreds of homes just taken held the shared pool for seconds).
        self._write_pool = AsyncConnectionPool(
            url, min_size=1, max_size=1, kwargs=connection_options(), open=False, name="oneteam-writer"
        )
        self._writes = GroupCommit(self._commit, (psycopg.Error,), max_rows=BATCH_ROWS)
        self._listener = TokenListener(url, TOKENS_CHANNEL)
        self._all_changes = 0
        """TRUNCATEs heard of: they change every home's tokens."""
        self._changes: dict[str, int] = {}
        """Token changes heard of, per home."""
        self._epochs: dict[str, int] = {}
        """The lease epoch under which this process writes each fenced home (see `storage`)."""
        self._keeper: asyncio.Task[None] | None = None
        self.listener_reopened = 0
        """How many times the listening connection was lost and opened again."""
        self._preloaded = OpeningReads()
        """What opening the homes just taken reads, read for all at once (`preload`)."""

    @property
    def is_open(self) -> bool:
        return self._writes.is_running

    async def open(self) -> None:
        """Create the tables if needed, fill the pool, listen, start the writer (once)."""
        if self.is_open:
            return
        await ensure_schema(self.url, self.partitions)
        await self.pool.open(wait=True)
        await self._write_pool.open(wait=True)
        await self._listener.open()
        self._writes.start()
        self._keeper = asyncio.create_task(self._keep_listening(), name="oneteam-pg-token-listener")

    async def close(self) -> None:
        """Commit what every home queued, then close the connections."""
        if not self.is_open:
            return
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        await self._writes.stop()
        self._listener.close()
        await self.pool.close()
        await self._write_pool.close()

    async def _commit(
        self, states: list[tuple[str, State]], events: list[tuple[str, Event]]
    ) -> dict[str, str]:
        """One transaction for every home's writes. When the database rejects a row (a value it
        cannot store), each home is committed on its own instead, so one home's bad write fails
        only that home's commands, not the other homes' in the batch."""
        homes = {home for home, _ in states} | {home for home, _ in events}
        try:
            return await self._commit_homes(states, events, homes)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            if len(homes) == 1:
                raise
            _LOGGER.warning("a batch of %d homes was rejected (%s): committing home by home", len(homes), exc)
        refused: dict[str, str] = {}
        for home in sorted(homes):
            try:
                refused |= await self._commit_homes(
                    [w for w in states if w[0] == home], [w for w in events if w[0] == home], {home}
                )
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                _LOGGER.error("home %s: writes rejected: %s", home, exc)
                refused[home] = f"{exc.__class__.__name__}: {exc}"
        return refused

    async def _commit_homes(
        self, states: list[tuple[str, State]], events: list[tuple[str, Event]], homes: set[str]
    ) -> dict[str, str]:
        """The batch in one statement (cluster/pgwrite.py): fenced homes whose lease moved to
        another epoch are refused, the rest committed, in one round trip."""
        epochs = {home: self._epochs[home] for home in homes if home in self._epochs}
        async with self._write_pool.connection() as connection:
            return await write_batch(connection, states, events, epochs)

    async def preload(self, epochs: Mapping[str, int]) -> None:
        """Read what opening each home of `epochs` (home → the lease epoch it was just taken
        under) reads, its credentials and members too, for all at once (cluster/opening_reads.py):
        a survivor taking hundreds of homes makes a few round trips, not a few per home. The
        storage opened under that epoch gets each answer once; `drop_preloaded` forgets the rest."""
        homes = {checked_home_id(h): epoch for h, epoch in epochs.items()}
        if not homes:
            return
        # Before the read: a token change landing while it runs must count as one since.
        stamps = {home: self.token_stamp(home) for home in homes}
        async with self.pool.connection() as connection:
            await self._preloaded.read(connection, homes, stamps)

    def take_preloaded(self, home_id: str, epoch: int | None, sql: str) -> list[tuple[Any, ...]] | None:
        """The preloaded answer of `sql` for the home's storage at `epoch` (once), or None."""
        return self._preloaded.take(home_id, epoch, sql)

    def take_credentials(self, home_id: str, epoch: int | None) -> KnownCredentials | None:
        """The home's preloaded credentials and members at `epoch` (once), or None."""
        return self._preloaded.take_credentials(home_id, epoch)

    def drop_preloaded(self, home_id: str) -> None:
        """Forget a home's preloaded answers not used (its open is over, or failed)."""
        self._preloaded.drop(home_id)

    def token_stamp(self, home_id: str) -> int | None:
        """A number that changes whenever a token of `home_id` may have changed (read from the
        listening connection without waiting); None when the listener is lost."""
        if not self._hear():
            return None
        return self._all_changes + self._changes.get(home_id, 0)

    def _hear(self) -> bool:
        """Count what the listener heard since last asked; False when it is lost."""
        payloads = self._listener.heard()
        if payloads is None:
            return False
        for home in payloads:
            if home == "*":
                self._all_changes += 1
            else:
                self._changes[home] = self._changes.get(home, 0) + 1
        return True

    async def _keep_listening(self) -> None:
        """Reopen the listening connection when it drops (a restarted or failed-over database, an
        administrator's pg_terminate_backend): checked every LISTEN_CHECK_S, so a lost listener
        costs token checks a query each for a moment, not for the rest of the process's life."""
        delay = LISTEN_CHECK_S
        while True:
            await asyncio.sleep(delay)
            try:
                if self._hear():
                    delay = LISTEN_CHECK_S
                    continue
                _LOGGER.warning("token-change listener lost: opening it again")
                await self._listener.open()
                if not self._listener.is_open:
                    delay = min(delay * 2, LISTEN_RETRY_MAX_S)
                    continue
                # What was said while nobody listened is unknown: every home's tokens may have changed.
                self._all_changes += 1
                self.listener_reopened += 1
                delay = LISTEN_CHECK_S
                _LOGGER.warning(
                    "token-change listener open again (reopened %d times)", self.listener_reopened
                )
            except Exception:  # keep watching: a lost listener must not stay lost
                _LOGGER.exception("token-change listener check failed")
                delay = min(delay * 2, LISTEN_RETRY_MAX_S)

    def storage(self, home_id: str, *, epoch: int | None = None) -> HomeStorage:
        """The hub `Storage` of one home. With the `epoch` of this process's lease on the home
        (cluster/lease.py), its writes are fenced: once another process has taken the lease (a
        new epoch), they are refused (StorageFailed) instead of committed over the new owner's."""
        home = checked_home_id(home_id)
        if epoch is not None:
            self._epochs[home] = epoch
        return HomeStorage(self, home, epoch)

    def accounts(self, home_id: str) -> HomeAccounts:
        """One home's household store (members, sessions, members' tokens)."""
        return HomeAccounts(self, checked_home_id(home_id))

    def overrides(self, home_id: str) -> HomeOverrides:
        """One home's device changes (names, rooms, hidden)."""
        return HomeOverrides(self, checked_home_id(home_id))


class _OnShared(PostgresRows):
    """A home's store on the shared tables: the home's id and the process's `SharedPostgres`,
    nothing else. Opening and closing it opens and closes nothing: the `SharedPostgres` owns the
    connections."""

    __slots__ = ("_epoch", "_home", "_shared")

    def __init__(self, shared: SharedPostgres, home_id: str, epoch: int | None = None) -> None:
        self._shared = shared
        self._home = home_id
        self._epoch = epoch

    async def _rows(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        if not params:  # a read of the home's opening, maybe read already with others (`preload`)
            rows = self._shared.take_preloaded(self._home, self._epoch, sql)
            if rows is not None:
                return rows
        return await super()._rows(sql, **params)

    async def _count(self, sql: str, **params: object) -> int:
        if (
            sql == HOME_ACCOUNTS.prune
            and self._shared.take_preloaded(self._home, self._epoch, sql) is not None
        ):
            return 0  # pruned with the others in `preload`
        return await super()._count(sql, **params)

    @property
    def home_id(self) -> str:
        return self._home

    def _connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        return self._shared.pool.connection()

    async def open(self) -> None:
        if not self._shared.is_open:
            raise RuntimeError("open the SharedPostgres before a home's stores")

    async def close(self) -> None:
        return None


class HomeAccounts(_OnShared, PostgresAccountTables):
    """One home's members, sessions and members' tokens."""

    __slots__ = ()
    _sql = HOME_ACCOUNTS

    def opening_credentials(self) -> KnownCredentials | None:
        return self._shared.take_credentials(self._home, self._epoch)


class HomeOverrides(_OnShared, PostgresOverrideTables):
    """One home's device changes."""

    __slots__ = ()
    _sql = HOME_OVERRIDES


class HomeStorage(_OnShared, PostgresTables):
    """One home's `Storage` on the shared tables: its writes go to the process's writer, its
    reads to the process's pool, both limited to its own rows."""

    __slots__ = ()
    _sql = HOMES

    async def close(self) -> None:
        """Commit what this home queued (a failure is logged: the shared writer goes on)."""
        try:
            await self.flush()
        except StorageFailed as exc:
            _LOGGER.error("home %s closed with writes not committed: %s", self._home, exc)

    async def save_home(self, home_id: str, source: str, text: str) -> None:
        """Keep the running home file, unless it is the one kept already (a home taken over)."""
        if await self.stored_home() != text:
            await super().save_home(home_id, source, text)

    def put_state(self, state: State) -> None:
        self._shared._writes.put_state(state, self._home)

    def put_event(self, event: Event) -> None:
        self._shared._writes.put_event(event, self._home)

    async def flush(self) -> None:
        await self._shared._writes.flush(self._home)

    def token_stamp(self) -> int | None:
        return self._shared.token_stamp(self._home)

    def accounts_store(self) -> HomeAccounts:
        """The household store beside this storage (what `accounts_for` picks)."""
        return HomeAccounts(self._shared, self._home, self._epoch)

    def overrides_store(self) -> HomeOverrides:
        """The device overrides beside this storage (what `overrides_for` picks)."""
        return HomeOverrides(self._shared, self._home, self._epoch)
