"""The async event bus: one shared log, a read position per subscriber.

Publishing appends once, whatever the number of subscribers, and never waits. Each subscriber
reads at its own pace; one that falls more than `maxsize` events behind skips ahead to the newest
`maxsize` and counts what it skipped in `dropped`, so a slow subscriber only loses its own events.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import islice

from oneteam.model import Event

_LOGGER = logging.getLogger(__name__)
LOG_CAPACITY = 100_000
"""Events the shared log keeps at most; the largest backlog any subscriber may have."""
_TRIM_EVERY = 1024
"""Publishes between two trims of the events every subscriber has read."""


class Subscription:
    """One subscriber's view of the bus; iterate it (or `await get()`) for events."""

    def __init__(self, bus: EventBus, name: str, maxsize: int) -> None:
        self.name = name
        self.maxsize = max(1, min(maxsize, LOG_CAPACITY))
        self._bus = bus
        self._next = bus.next_sequence
        self._dropped = 0
        self.is_closed = False

    @property
    def dropped(self) -> int:
        """Events this subscriber lost because it fell too far behind (including those about to be lost)."""
        return self._dropped + max(0, self.pending - self.maxsize)

    @property
    def pending(self) -> int:
        """Events published but not yet read by this subscriber."""
        return self._bus.next_sequence - self._next

    @property
    def bus(self) -> EventBus:
        """The bus this subscription reads."""
        return self._bus

    def _skip_lost(self) -> None:
        backlog = self.pending
        if backlog > self.maxsize:
            skipped = backlog - self.maxsize
            self._dropped += skipped
            self._bus.dropped_total += skipped
            self._next += skipped
            if self._dropped == skipped or self._dropped // 1000 != (self._dropped - skipped) // 1000:
                _LOGGER.warning("subscriber %s is slow: %d events dropped", self.name, self._dropped)

    def get_nowait(self) -> Event:
        """The next event, or asyncio.QueueEmpty when there is none yet."""
        self._skip_lost()
        if self._next >= self._bus.next_sequence:
            raise asyncio.QueueEmpty
        event = self._bus.event_at(self._next)
        self._next += 1
        return event

    def take(self, limit: int) -> range:
        """Bus sequence numbers of up to `limit` next events (empty when none), marked read.

        Reading by range lets a fan-out do its per-event work once per range, shared by every
        subscriber that is at the same place, instead of once per event per subscriber."""
        self._skip_lost()
        start = self._next
        self._next = min(self._bus.next_sequence, start + max(1, limit))
        return range(start, self._next)

    async def wait(self) -> None:
        """Return once there is at least one event to read (at once when there is already)."""
        while self._bus.next_sequence <= self._next:
            await self._bus.wait_for_more()

    async def take_batch(self, limit: int) -> range:
        """Like `take`, waiting until there is at least one event."""
        while not (taken := self.take(limit)):
            await self._bus.wait_for_more()
        return taken

    async def get(self) -> Event:
        """The next event (waits for one)."""
        while True:
            try:
                return self.get_nowait()
            except asyncio.QueueEmpty:
                await self._bus.wait_for_more()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while not self.is_closed:
            yield await self.get()


class EventBus:
    """Fan-out of events to subscribers without ever blocking the publisher."""

    def __init__(self) -> None:
        self._log: deque[Event] = deque(maxlen=LOG_CAPACITY)
        self.next_sequence = 0
        """Sequence number the next published event gets (bus-local, not the event id)."""
        self._waiters: list[asyncio.Future[None]] = []
        """One future per waiting subscriber (a future shared by all would need a shield each, so
        that one subscriber's cancellation does not cancel the others': three times the work)."""
        self._subscriptions: list[Subscription] = []
        self.dropped_total = 0
        """Events lost by slow subscribers, over the bus's life."""

    def publish(self, event: Event) -> None:
        """Append `event` to the log and wake waiting subscribers."""
        log = self._log
        if self._subscriptions:
            log.append(event)
        elif log:
            log.clear()  # nobody can read them: a subscription starts with the next event
        self.next_sequence += 1
        if not self.next_sequence % _TRIM_EVERY and log:
            self._trim()
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():  # a cancelled one: its subscriber left
                    waiter.set_result(None)

    def _trim(self) -> None:
        """Drop the events every subscriber has read. The log then holds only what someone may
        still read, not always LOG_CAPACITY events: fewer objects kept alive, so the garbage
        collector's full passes (which walk every live event) come seldom and cost little."""
        log = self._log
        oldest = min((s._next for s in self._subscriptions), default=self.next_sequence)
        for _ in range(oldest - (self.next_sequence - len(log))):
            log.popleft()

    def event_at(self, sequence: int) -> Event:
        """The event with a bus sequence number still in the log."""
        return self._log[sequence - (self.next_sequence - len(self._log))]

    def events_in(self, sequences: range) -> list[Event]:
        """The events of a range of sequence numbers still in the log (as `take` gives them)."""
        log = self._log
        first = self.next_sequence - len(log)
        start, stop = max(0, sequences.start - first), max(0, sequences.stop - first)
        if start < len(log) // 2:
            return list(islice(log, start, stop))
        # A deque is walked from an end: a fan-out reads the newest events, so walk from the right.
        newest_first = list(islice(reversed(log), len(log) - stop, len(log) - start))
        newest_first.reverse()
        return newest_first

    async def wait_for_more(self) -> None:
        """Return after the next publish."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    @asynccontextmanager
    async def subscribe(self, name: str, maxsize: int = 1000) -> AsyncIterator[Subscription]:
        """A subscription for the duration of the `async with` block, starting with the next event."""
        subscription = Subscription(self, name, maxsize)
        self._subscriptions.append(subscription)
        try:
            yield subscription
        finally:
            subscription.is_closed = True
            self._subscriptions.remove(subscription)

    @property
    def backlog(self) -> int:
        """Events the furthest-behind subscriber has yet to read, those it lost aside (0 when every
        one is caught up)."""
        return max((min(s.pending, s.maxsize) for s in self._subscriptions), default=0)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscriptions)
