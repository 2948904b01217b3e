"""Slowing down password guessing at the page's sign-in (argon2's cost alone is no limit: a
guesser just waits a few milliseconds more per try).

Wrong passwords are counted per member name and per address over a sliding window. The first few
cost nothing extra; beyond them each further try waits longer before it is even checked, and at the
limit the answer is 429 with Retry-After (the seconds until the oldest counted failure leaves the
window) and a message in the reader's language. A right password clears its name's count; the
address keeps its own, so one address cannot try many names for free. Only failures are counted,
so a household behind one address that signs in correctly is never slowed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import JSONResponse

from oneteam.api.errors import language_of
from oneteam.i18n import render

MAX_KEYS = 10_000
"""Names and addresses remembered at most (the oldest forgotten first): a flood of made-up names
cannot grow the hub's memory."""


@dataclass
class SignInLimits:
    """The counts, kept on `app.state.signin_limits` (tests give a shorter window)."""

    window_s: float = 900.0
    free: int = 3
    """Failures in the window that cost nothing extra."""
    name_limit: int = 10
    """Failures for one member name in the window before 429."""
    address_limit: int = 30
    """Failures from one address (any names) before 429: a household shares one address."""
    delay_s: float = 0.5
    """The wait of the first slowed try; each further one doubles it, up to `max_delay_s`."""
    max_delay_s: float = 8.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, name: str | None, address: str) -> float | None:
        """Seconds until a try is allowed again, or None when it may be made now."""
        now = self.clock()
        waits = []
        for key, limit in self._keys(name, address):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[len(times) - limit] + self.window_s - now)
        return max(waits) if waits else None

    def delay(self, name: str | None, address: str) -> float:
        """How long to hold this try before checking it (0 for the first few failures)."""
        now = self.clock()
        over = max(len(self._recent(key, now)) for key, _ in self._keys(name, address)) - self.free
        return 0.0 if over < 0 else min(self.max_delay_s, self.delay_s * 2**over)

    def failed(self, name: str | None, address: str) -> None:
        now = self.clock()
        for key, _ in self._keys(name, address):
            times = self._recent(key, now)
            if not times:
                self._failures[key] = times
            times.append(now)
        while len(self._failures) > MAX_KEYS:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"name:{name}", None)

    def _keys(self, name: str | None, address: str) -> list[tuple[str, int]]:
        keys = [(f"address:{address}", self.address_limit)]
        if name is not None:
            keys.append((f"name:{name.strip().lower()}", self.name_limit))
        return keys


def limits_of(request: Request) -> SignInLimits:
    """The app's counts (made on first use)."""
    limits: SignInLimits | None = getattr(request.app.state, "signin_limits", None)
    if limits is None:
        limits = request.app.state.signin_limits = SignInLimits()
    return limits


def address_of(request: Request) -> str:
    """The caller's address: the socket's, or what a proxy the operator trusts says (api/proxies.py)."""
    return request.client.host if request.client else "unknown"


def too_many(request: Request, wait_s: float) -> JSONResponse:
    """429 with Retry-After and the reason in the reader's language."""
    seconds = max(1, math.ceil(wait_s))
    minutes = max(1, math.ceil(seconds / 60))
    key = "error.session.too_many"
    return JSONResponse(
        {
            "error": {
                "key": key,
                "message": render(key, language_of(request), minutes=minutes),
                "params": {"retry_after_s": seconds},
            }
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


async def hold(limits: SignInLimits, name: str | None, address: str) -> None:
    """Wait as long as this name's and address's failures ask before checking the password."""
    wait = limits.delay(name, address)
    if wait > 0:
        await asyncio.sleep(wait)
