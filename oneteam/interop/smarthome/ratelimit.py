"""Per-partner rate limits: a token bucket per client id, refilled continuously.

A partner may spend its whole minute at once (capacity = rate per minute), then gets 429 with
the seconds until the next request would be allowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets keyed by partner."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def retry_after_s(self, key: str, rate_per_minute: int) -> float | None:
        """Take one request from `key`'s bucket: None when allowed, else seconds to wait."""
        now = self._clock()
        capacity = float(max(1, rate_per_minute))
        refill_per_s = capacity / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(tokens=capacity, at=now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.at) * refill_per_s)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / refill_per_s
