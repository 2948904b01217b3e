"""Group commit: writes queued by many callers become one transaction, and `flush` waits for it.

Shared by every storage backend; a backend supplies only the function that commits a batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from oneteam.model import Event, State

_LOGGER = logging.getLogger(__name__)

CommitBatch = Callable[[list[State], list[Event]], Awaitable[None]]


class GroupCommit:
    """Queues states (the latest per device) and events, and commits them in batches."""

    def __init__(self, commit: CommitBatch, errors: tuple[type[Exception], ...]) -> None:
        self._commit = commit
        self._errors = errors
        self._states: dict[str, State] = {}
        self._events: list[Event] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def is_running(self) -> bool:
        """Whether the writer task is running."""
        return self._writer is not None

    def start(self) -> None:
        """Start the writer task on the running loop."""
        self._wake = asyncio.Event()
        self._closing = False
        self._writer = asyncio.create_task(self._write_loop(), name="storage-writer")

    async def stop(self) -> None:
        """Commit what is queued and end the writer."""
        if self._writer is None:
            return
        await self.flush()
        self._closing = True
        self._wake.set()
        await self._writer
        self._writer = None

    def put_state(self, state: State) -> None:
        """Queue a device's latest state (replacing an earlier queued one)."""
        self._states[state.device_id] = state
        self._wake.set()

    def put_event(self, event: Event) -> None:
        """Queue an event."""
        self._events.append(event)
        self._wake.set()

    async def flush(self) -> None:
        """Return once everything queued before the call is committed."""
        if not self._states and not self._events and not self._waiters:
            return
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
            failure: Exception | None = None
            if states or events:
                try:
                    await self._commit(list(states.values()), events)
                except self._errors as exc:
                    _LOGGER.exception("storage write failed")
                    failure = exc
            for waiter in waiters:
                if waiter.done():
                    continue
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(failure)
            if self._closing and not self._states and not self._events:
                return
