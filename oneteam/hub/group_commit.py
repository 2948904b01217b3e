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
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from oneteam.hub.supervisor import Supervisor
from oneteam.model import Event, OneteamError, State

_LOGGER = logging.getLogger(__name__)

CommitBatch = Callable[
    [list[tuple[str, State]], list[tuple[str, Event]]], Awaitable[Mapping[str, str] | None]
]
"""Commits states and events, each beside its home's id, in one transaction; may refuse the
writes of some homes (home → why: a home this process no longer holds) and commit the rest."""
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


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How a batch ended: failed as a whole, or committed but for the refused homes' writes."""

    failure: StorageFailed | None = None
    refused: Mapping[str, str] = field(default_factory=dict)

    def check(self, home: str | None) -> None:
        if self.failure is not None:
            raise self.failure
        if home is not None and home in self.refused:
            raise StorageFailed(self.refused[home])


_COMMITTED = _Outcome()


def _interrupted() -> _Outcome:
    # A new exception each time: one instance raised again and again would keep every traceback.
    return _Outcome(failure=StorageFailed("the write was interrupted"))


class _Batch:
    """One transaction's waiting flushers and, once it ended, its outcome.

    Each flusher waits on a future of its own (cancelling one cancels no other), and the writer
    ends them all at once: one future and one wake-up per command, not a shared future shielded
    per flusher (three loop callbacks each)."""

    __slots__ = ("outcome", "waiters")

    def __init__(self) -> None:
        self.waiters: list[asyncio.Future[None]] = []
        self.outcome: _Outcome | None = None

    def end(self, outcome: _Outcome) -> None:
        """Record how the batch ended, then wake every flusher still waiting for it."""
        if self.outcome is not None:
            return
        self.outcome = outcome
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)

    def check(self, home: str | None) -> None:
        """Raise StorageFailed if the batch (or `home`'s part of it) was not committed."""
        (self.outcome or _interrupted()).check(home)


class GroupCommit:
    """Queues states (the latest per device) and events, and commits them in batches.

    A flush waits for the batch being committed (its writes may be in it) and, when something is
    queued, for the next one; batches are committed one after the other, so the next one ending
    means the one in flight has ended too."""

    def __init__(
        self, commit: CommitBatch, errors: tuple[type[Exception], ...], *, max_rows: int | None = None
    ) -> None:
        """`errors` are the backend's own database errors (logged without a traceback); any other
        exception from `commit` is unexpected and logged with one. Both fail the waiting commands.

        With `max_rows` (a writer of many homes), a batch takes every queued write of the homes a
        flush waits for, and of the others only up to `max_rows` rows in the order queued; the rest
        go in the next batches. A command then never waits for thousands of other homes' device
        states to commit (a takeover's re-attaching devices), only for the batch in flight."""
        self._commit = commit
        self._errors = errors
        self._max_rows = max_rows
        self._urgent: set[str] = set()
        """Homes a flush waits for (see `max_rows`)."""
        self._everything = False
        """Whether a flush waits for every home's writes."""
        self._states: dict[tuple[str, str], State] = {}
        self._events: list[tuple[str, Event]] = []
        self._next: _Batch | None = None
        """The batch that will take what is queued now (made by the first flush)."""
        self._in_flight: _Batch | None = None
        """The batch being committed."""
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
        while self._states or self._events or self._in_flight is not None:
            try:
                await self.flush()
            except StorageFailed:
                break  # logged by the writer; the batch is dropped
        self._running = False
        await self._supervisor.stop()
        closed = _Outcome(failure=StorageFailed("storage closed"))
        for batch in (self._in_flight, self._next):
            if batch is not None:
                batch.end(closed)
        self._in_flight = self._next = None

    def put_state(self, state: State, home: str = "") -> None:
        """Queue a device's latest state (replacing an earlier queued one of the same home)."""
        self._states[home, state.device_id] = state
        self._wake.set()

    def put_event(self, event: Event, home: str = "") -> None:
        """Queue an event of a home."""
        self._events.append((home, event))
        self._wake.set()

    async def flush(self, home: str | None = None) -> None:
        """Return once everything queued before the call is committed; StorageFailed if it was
        not (or if `home`'s writes were refused)."""
        before = self._in_flight
        if self._states or self._events:
            if not self._running:
                raise StorageFailed("storage is not open")
            batch = self._next
            if batch is None:
                batch = self._next = _Batch()
            if home is None:
                self._everything = True
            else:
                self._urgent.add(home)
            self._wake.set()
        elif before is not None:
            batch, before = before, None
        else:
            return
        waiter = asyncio.get_running_loop().create_future()
        batch.waiters.append(waiter)
        await waiter
        if before is not None and before.outcome is not _COMMITTED:
            before.check(home)  # ended before `batch` began
        if batch.outcome is not _COMMITTED:
            batch.check(home)

    def _take(self) -> tuple[dict[tuple[str, str], State], list[tuple[str, Event]]]:
        """What the next batch commits: everything, or with `max_rows` the homes flushed for and
        up to `max_rows` other rows (the rest stays queued and wakes the writer again)."""
        states, events = self._states, self._events
        urgent, everything = self._urgent, self._everything
        self._urgent, self._everything = set(), False
        limit = self._max_rows
        if limit is None or everything or len(states) + len(events) <= limit:
            self._states, self._events = {}, []
            return states, events
        taken: dict[tuple[str, str], State] = {}
        left: dict[tuple[str, str], State] = {}
        room = limit
        for key, state in states.items():
            if key[0] in urgent:
                taken[key] = state
            elif room > 0:
                taken[key] = state
                room -= 1
            else:
                left[key] = state
        taken_events: list[tuple[str, Event]] = []
        left_events: list[tuple[str, Event]] = []
        for write in events:
            if write[0] in urgent:
                taken_events.append(write)
            elif room > 0:
                taken_events.append(write)
                room -= 1
            else:
                left_events.append(write)
        self._states, self._events = left, left_events
        if left or left_events:
            self._wake.set()
        return taken, taken_events

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            states, events = self._take()
            batch, self._next = self._next, None
            if not states and not events:
                if batch is not None:
                    batch.end(_Outcome())
                continue
            if batch is None:
                batch = _Batch()
            self._in_flight = batch
            outcome = _interrupted()
            try:
                refused = await self._commit([(home, s) for (home, _), s in states.items()], events)
                outcome = _Outcome(refused=refused) if refused else _COMMITTED
            except self._errors as exc:
                _LOGGER.error("storage write failed: %s", exc)
                outcome = _Outcome(failure=StorageFailed(f"{exc.__class__.__name__}: {exc}"))
            except Exception as exc:
                _LOGGER.exception("storage write failed unexpectedly")
                outcome = _Outcome(failure=StorageFailed(f"{exc.__class__.__name__}: {exc}"))
            finally:
                self._in_flight = None
                batch.end(outcome)


class GroupCommitted:
    """The Storage methods every backend answers alike, from its group-commit writer `_writes`."""

    _writes: GroupCommit

    def put_state(self, state: State) -> None:
        """Queue a device's latest state."""
        self._writes.put_state(state)

    def put_event(self, event: Event) -> None:
        """Queue an event for the history."""
        self._writes.put_event(event)

    def flush(self) -> Coroutine[Any, Any, None]:
        """Wait until everything queued so far is committed (the writer's own coroutine: one
        frame less on every command's way)."""
        return self._writes.flush()
