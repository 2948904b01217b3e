"""Garbage collection in a process that serves hundreds of homes.

CPython's full collection walks every tracked object, and it runs whenever the objects that lived
long grew by a quarter since the last one. A process serving ~330 homes holds ~400,000 objects,
and a survivor taking a dead process's homes grows by more than a quarter: in a 1,000-home
failover (bench_cluster, 2026-12-04) each survivor made two to four full collections in the first
ten seconds after the kill, of 0.3 to 0.9 s each on the loaded machine, with the event loop
stopped, and most of them found nothing to free. Steady load paused for up to 1.6 s the same way.

What a home holds lives as long as the home is served, so once homes are open their objects are
moved out of the collector's sight (`gc.freeze`): later collections walk only what is newer.
Frozen objects are still freed by reference counting; only a cycle among them, of a home closed
since, waits until `reclaim` moves them back and collects once, at a moment chosen here: soon
after the last home closed (a hand-off is over), at most every RECLAIM_SPACING_S, or every
RECLAIM_EVERY_S. That collection is one pause for what all the closed homes left: a closed hub is
a cycle as a whole (~210 objects a home with virtual devices, ~440 with MQTT), and a process that
handed ~690 homes away paused 1.5–2 s once.
"""

from __future__ import annotations

import gc
import logging
import time

_LOGGER = logging.getLogger(__name__)

RECLAIM_AFTER_CLOSE_S = 3.0
"""A reclaim waits until no home closed for this long (a hand-off closes 32 homes every 0.5 s)."""
RECLAIM_SPACING_S = 30.0
"""Reclaims after closes are at least this far apart: homes lost a few at a time do not pause the
process again and again."""
RECLAIM_EVERY_S = 600.0
"""The longest frozen objects wait to be looked at (cycles left by anything else that ended)."""


class Heap:
    """When to freeze what the open homes hold, and when to collect it again (placement asks)."""

    def __init__(self, *, now: float | None = None) -> None:
        self._closed_at: float | None = None
        self._reclaimed_at = time.monotonic() if now is None else now
        self.reclaims = 0
        """Full collections made here (a test's and an operator's figure)."""

    def opened(self) -> None:
        """Homes were just opened: what exists now is kept out of later collections."""
        gc.freeze()

    def closed(self, now: float) -> None:
        """A home was closed at monotonic `now`: its cycles, if any, wait for `step` to reclaim."""
        self._closed_at = now

    def step(self, now: float) -> bool:
        """Reclaim when a close has settled or the last reclaim is old (True when it did)."""
        since = now - self._reclaimed_at
        settled = (
            self._closed_at is not None
            and now - self._closed_at >= RECLAIM_AFTER_CLOSE_S
            and since >= RECLAIM_SPACING_S
        )
        if not settled and since < RECLAIM_EVERY_S:
            return False
        self.reclaim(now)
        return True

    def reclaim(self, now: float) -> None:
        """Look at everything once (a full collection), then keep what is left out of sight again."""
        began = time.monotonic()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self._closed_at = None
        self._reclaimed_at = now
        self.reclaims += 1
        _LOGGER.info(
            "full collection of %d kept objects: %d freed in %.0f ms",
            gc.get_freeze_count(),
            freed,
            (time.monotonic() - began) * 1000,
        )
