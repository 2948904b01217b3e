"""The async event bus: each subscriber has its own bounded queue, so a slow one loses only its own events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from oneteam.model import Event

_LOGGER = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscription:
    """One subscriber's queue; iterate it for events. `dropped` counts what did not fit."""

    name: str
    queue: asyncio.Queue[Event]
    dropped: int = 0
    _closed: bool = field(default=False, repr=False)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while not self._closed:
            yield await self.queue.get()

    async def get(self) -> Event:
        """The next event (waits)."""
        return await self.queue.get()


class EventBus:
    """Fan-out of events to subscribers without ever blocking the publisher."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self.dropped_total = 0
        """Events that some subscriber's full queue could not take, over the bus's life."""

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber now; a full queue drops it for that subscriber only."""
        for subscription in self._subscriptions:
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.dropped += 1
                self.dropped_total += 1
                if subscription.dropped == 1 or subscription.dropped % 1000 == 0:
                    _LOGGER.warning(
                        "subscriber %s is slow: %d events dropped", subscription.name, subscription.dropped
                    )

    @asynccontextmanager
    async def subscribe(self, name: str, maxsize: int = 1000) -> AsyncIterator[Subscription]:
        """A subscription for the duration of the `async with` block."""
        subscription = Subscription(name=name, queue=asyncio.Queue(maxsize=maxsize))
        self._subscriptions.append(subscription)
        try:
            yield subscription
        finally:
            subscription._closed = True
            self._subscriptions.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscriptions)
