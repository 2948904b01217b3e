"""Group commit: writes queued by many callers become one transaction, and `flush` waits for it.

Shared by every storage backend; a backend supplies only the function that commits a batch.
Each write carries the home it belongs to ("" for a single-home store), so one writer can serve
every home of a process (oneteam/cluster/pgshared.py) and a device's latest state is kept per home.
The writer is a supervised task: whatever a commit raises fails the commands waiting for it with
`StorageFailed` (never leaves them waiting forever), and the writer keeps serving later batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from oneteam.hub.supervisor import Supervisor
from oneteam.model import Event, OneteamError, State

_LOGGER = logging.getLogger(__name__)

CommitBatch = Callable[[list[tuple[str, State]], list[tuple[str, Event]]], Awaitable[None]]
"""Commits states and events, each beside its home's id, in one transaction."""
OneHomeBatch = Callable[[list[State], list[Event]], Awaitable[None]]


def one_home(commit: OneHomeBatch) -> CommitBatch:
    """A single-home backend's commit, for a writer whose writes all belong to home ""."""

    async def commit_batch(states: list[tuple[str, State]], events: list[tuple[str, Event]]) -> None:
        await commit([state for _, state in states], [event for _, event in events])

    return commit_batch


class StorageFailed(OneteamError):
    """A batch could not be committed; the commands that waited for it were not stored."""

    key = "error.storage"

    def __init__(self, reason: str) -> None:
        super().__init__(f"storage write failed: {reason}", reason=reason)


class GroupCommit:
    """Queues states (the latest per device) and events, and commits them in batches."""

    def __init__(self, commit: CommitBatch, errors: tuple[type[Exception], ...]) -> None:
        """`errors` are the backend's own database errors (logged without a traceback); any other
        exception from `commit` is unexpected and logged with one. Both fail the waiting commands."""
        self._commit = commit
        self._errors = errors
        self._states: dict[tuple[str, str], State] = {}
        self._events: list[tuple[str, Event]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._supervisor = Supervisor("storage")
        self._running = False

    @property
    def is_running(self) -> bool:
        """Whether the writer task is running."""
        return self._running

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._wake = asyncio.Event()
        if self._states or self._events:
            self._wake.set()  # queued before the start
        self._running = True
        self._supervisor.start()
        self._supervisor.spawn("storage-writer", self._write_loop)

    async def stop(self) -> None:
        """Commit what is queued and end the writer (a failing last commit is logged, not raised,
        so the backend still closes)."""
        if not self._running:
            return
        while self._states or self._events or self._waiters:
            try:
                await self.flush()
            except StorageFailed:
                break  # logged by the writer; the batch is dropped
        self._running = False
        await self._supervisor.stop()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(StorageFailed("storage closed"))
        self._waiters.clear()

    def put_state(self, state: State, home: str = "") -> None:
        """Queue a device's latest state (replacing an earlier queued one of the same home)."""
        self._states[home, state.device_id] = state
        self._wake.set()

    def put_event(self, event: Event, home: str = "") -> None:
        """Queue an event of a home."""
        self._events.append((home, event))
        self._wake.set()

    async def flush(self) -> None:
        """Return once everything queued before the call is committed; StorageFailed if it was not."""
        if not self._states and not self._events and not self._waiters:
            return
        if not self._running:
            raise StorageFailed("storage is not open")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        await waiter

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            states, events, waiters = self._states, self._events, self._waiters
            self._states, self._events, self._waiters = {}, [], []
            failure: StorageFailed | None = None
            if states or events:
                try:
                    await self._commit([(home, s) for (home, _), s in states.items()], events)
                except self._errors as exc:
                    _LOGGER.error("storage write failed: %s", exc)
                    failure = StorageFailed(f"{exc.__class__.__name__}: {exc}")
                except Exception as exc:
                    _LOGGER.exception("storage write failed unexpectedly")
                    failure = StorageFailed(f"{exc.__class__.__name__}: {exc}")
            for waiter in waiters:
                if waiter.done():
                    continue
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(failure)


class GroupCommitted:
    """The Storage methods every backend answers alike, from its group-commit writer `_writes`."""

    _writes: GroupCommit

    def put_state(self, state: State) -> None:
        """Queue a device's latest state."""
        self._writes.put_state(state)

    def put_event(self, event: Event) -> None:
        """Queue an event for the history."""
        self._writes.put_event(event)

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        await self._writes.flush()
