"""Budgeted polling of ThinQ state: per-device interval, one hourly call budget, jitter and back-off.

LG limits calls per user per hour and does not publish the figure (thinq-connect/pythinqconnect#14),
so the poller never spends more than its budget: with N devices and a budget of B polls an hour,
each device is polled every max(interval_s, N × 3600 / B) seconds, spread with jitter so the calls
do not bunch. A rate-limit answer or an outage stops all polling for an exponentially growing
pause (Retry-After honoured); nothing retries in a tight loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from oneteam.integrations.thinq.cloud import CloudDown, CloudError, RateLimited, TokenRejected
from oneteam.integrations.thinq.const import BUDGET_WINDOW_S, BackoffKind

_LOGGER = logging.getLogger(__name__)
Clock = Callable[[], float]


class CallBudget:
    """Calls made in the last hour, against the account's budget (a share kept for commands)."""

    def __init__(
        self,
        calls_per_hour: int,
        command_reserve: float,
        *,
        clock: Clock = time.monotonic,
        window_s: float = BUDGET_WINDOW_S,
    ) -> None:
        self.calls_per_hour = calls_per_hour
        self.poll_capacity = max(1, int(calls_per_hour * (1 - command_reserve)))
        self.window_s = window_s
        self.total = 0
        self._clock = clock
        self._calls: deque[float] = deque()

    def _expire(self) -> None:
        horizon = self._clock() - self.window_s
        while self._calls and self._calls[0] <= horizon:
            self._calls.popleft()

    def used(self) -> int:
        """Calls in the current window."""
        self._expire()
        return len(self._calls)

    def can_poll(self) -> bool:
        """Whether a poll fits in the polling share of the budget."""
        return self.used() < self.poll_capacity

    def can_command(self) -> bool:
        """Whether a command fits in the whole budget."""
        return self.used() < self.calls_per_hour

    def record(self, count: int = 1) -> None:
        """Count calls made now."""
        now = self._clock()
        self._calls.extend(now for _ in range(count))
        self.total += count

    def wait_s(self) -> float:
        """Seconds until the oldest call leaves the window."""
        self._expire()
        if not self._calls:
            return 0.0
        return max(0.0, self._calls[0] + self.window_s - self._clock())


class Backoff:
    """Exponential back-off with jitter: base, 2×base, 4×base, ... up to max_s; a longer Retry-After wins."""

    def __init__(
        self, base_s: float, max_s: float, jitter: float, *, rng: random.Random, clock: Clock = time.monotonic
    ) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self.jitter = jitter
        self.failures = 0
        self._until = 0.0
        self._rng = rng
        self._clock = clock

    def hit(self, retry_after_s: float | None = None) -> float:
        """Register a failure; return how long to stay quiet."""
        delay = min(self.max_s, self.base_s * float(2**self.failures))
        delay *= 1 + self._rng.uniform(0, self.jitter)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_s))
        self.failures += 1
        self._until = self._clock() + delay
        return delay

    def clear(self) -> None:
        """A call succeeded: start over."""
        self.failures = 0
        self._until = 0.0

    def remaining_s(self) -> float:
        """Seconds left of the current pause (0 when none)."""
        return max(0.0, self._until - self._clock())


@dataclass(frozen=True, slots=True, kw_only=True)
class PollHooks:
    """What the poller tells its owner."""

    fetch: Callable[[str], Awaitable[None]]
    """Fetch and report one ThinQ device's state; raises RateLimited, CloudDown or TokenRejected."""
    on_backoff: Callable[[BackoffKind, float, str], None]
    """(why, delay_s, reason) when polling pauses."""
    on_recovered: Callable[[], None]
    """A call succeeded after failures."""
    on_token_rejected: Callable[[str], None]
    """The token was refused; polling stays paused until `resume()`."""
    on_device_failed: Callable[[str, BaseException], None] = lambda thinq_id, error: None
    """(thinq id, error) when one device's poll failed otherwise (an LG code nobody expected): the
    device is marked unavailable and polled again after its own back-off."""


class Poller:
    """Polls each ThinQ device in turn within the budget; one task, started by `run()`."""

    def __init__(
        self,
        hooks: PollHooks,
        *,
        budget: CallBudget,
        backoff: Backoff,
        interval_s: float,
        jitter: float,
        rng: random.Random,
        clock: Clock = time.monotonic,
    ) -> None:
        self.hooks = hooks
        self.budget = budget
        self.backoff = backoff
        self.base_interval_s = interval_s
        self.jitter = jitter
        self._rng = rng
        self._clock = clock
        self._due: dict[str, float] = {}
        self._device_failures: dict[str, int] = {}
        """Polls in a row that failed for one device (for its own back-off)."""
        self._wake = asyncio.Event()
        self._enabled = asyncio.Event()
        self._enabled.set()
        self.polls = 0

    @property
    def interval_s(self) -> float:
        """The per-device interval the budget allows for the current number of devices."""
        by_budget = len(self._due) * self.budget.window_s / self.budget.poll_capacity
        return max(self.base_interval_s, by_budget)

    @property
    def is_paused(self) -> bool:
        """Whether polling waits for a new token."""
        return not self._enabled.is_set()

    def set_interval(self, interval_s: float) -> None:
        """Change the per-device interval (push up: slow safety polls; push down: normal polling)."""
        self.base_interval_s = interval_s
        now = self._clock()
        for thinq_id, due in self._due.items():
            self._due[thinq_id] = min(due, now + self.interval_s * self._rng.uniform(0.5, 1.0))
        self._wake.set()

    def set_devices(self, thinq_ids: list[str]) -> None:
        """Poll these devices, first rounds spread evenly over one interval."""
        now = self._clock()
        self._due = {}
        interval = max(
            self.base_interval_s, len(thinq_ids) * self.budget.window_s / self.budget.poll_capacity
        )
        for index, thinq_id in enumerate(thinq_ids):
            self._due[thinq_id] = now + interval * (index + 1) / max(1, len(thinq_ids))
        self._wake.set()

    def poll_soon(self, thinq_id: str) -> None:
        """Poll this device next (after a command, to confirm what the appliance did)."""
        if thinq_id in self._due:
            self._due[thinq_id] = self._clock()
            self._wake.set()

    def pause(self) -> None:
        """Stop polling until `resume()` (the token was refused)."""
        self._enabled.clear()

    def resume(self) -> None:
        """Poll again, every device soon."""
        now = self._clock()
        for thinq_id in self._due:
            self._due[thinq_id] = now
        self.backoff.clear()
        self._enabled.set()
        self._wake.set()

    async def _sleep(self, delay_s: float) -> None:
        """Sleep `delay_s`, or less if woken (a new device, a command, a resume)."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, delay_s)):
                await self._wake.wait()

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await self._enabled.wait()
            pause_s = self.backoff.remaining_s()
            if pause_s > 0:
                await asyncio.sleep(pause_s)
                continue
            if not self._due:
                await self._sleep(3600.0)
                continue
            thinq_id, due = min(self._due.items(), key=lambda item: item[1])
            now = self._clock()
            if due > now:
                await self._sleep(due - now)
                continue
            if not self.budget.can_poll():
                await self._sleep(self.budget.wait_s())
                continue
            await self._poll(thinq_id)

    async def _poll(self, thinq_id: str) -> None:
        self.budget.record()
        self.polls += 1
        try:
            await self.hooks.fetch(thinq_id)
        except RateLimited as exc:
            delay = self.backoff.hit(exc.retry_after_s)
            _LOGGER.warning("ThinQ rate limit: polling paused for %.1f s (%s)", delay, exc)
            self.hooks.on_backoff(BackoffKind.RATE_LIMITED, delay, str(exc))
            return  # the device stays due: it is polled first when the pause ends
        except CloudDown as exc:
            delay = self.backoff.hit(None)
            _LOGGER.warning("ThinQ unreachable: polling paused for %.1f s (%s)", delay, exc)
            self.hooks.on_backoff(BackoffKind.OUTAGE, delay, str(exc))
            return
        except TokenRejected as exc:
            self.pause()
            self.hooks.on_token_rejected(str(exc))
            return
        except Exception as exc:
            # Anything else (an LG code not in any list, an answer the SDK cannot read) concerns
            # this device: it waits out its own back-off while the others keep being polled.
            failures = self._device_failures.get(thinq_id, 0) + 1
            self._device_failures[thinq_id] = failures
            delay = min(self.backoff.max_s, self.backoff.base_s * float(2 ** (failures - 1)))
            _LOGGER.warning(
                "ThinQ poll of %s failed (%s: %s); trying it again in %.1f s",
                thinq_id,
                exc.__class__.__name__,
                exc,
                delay,
                exc_info=not isinstance(exc, CloudError),
            )
            if thinq_id in self._due:
                self._due[thinq_id] = self._clock() + delay
            self.hooks.on_device_failed(thinq_id, exc)
            return
        if self._device_failures.pop(thinq_id, 0):
            _LOGGER.info("ThinQ poll of %s answers again", thinq_id)
        if self.backoff.failures:
            self.backoff.clear()
            self.hooks.on_recovered()
        if thinq_id in self._due:
            spread = 1 + self._rng.uniform(-self.jitter, self.jitter)
            self._due[thinq_id] = self._clock() + self.interval_s * spread
