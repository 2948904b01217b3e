"""Opening many taken homes leaves the loop free between homes: requests to the homes already open
are served while the rest open (an open whose reads came with the takeover may never wait).
A host that opens with CPU only stands in for one whose reads were preloaded; the real thing is
measured by bench/bench_cluster.py (BENCHMARKS.md, "Failover rerun")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

from oneteam.cluster.lease import Lease, LeaseTable
from oneteam.cluster.placement import OPEN_CONCURRENCY, Placement


class _CpuHost:
    """Opens a home with ~5 ms of CPU and no wait, as a home whose reads were preloaded does."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def open_homes(self) -> Iterable[str]:
        return list(self.opened)

    async def prepare(self, epochs: Mapping[str, int]) -> None:
        return None

    async def open_home(self, home_id: str, lease: Lease, record: Any = None) -> None:
        end = time.perf_counter() + 0.005
        while time.perf_counter() < end:
            pass
        self.opened.append(home_id)

    async def close_home(self, home_id: str) -> None:
        return None

    def renewed(self, leases: dict[str, Lease]) -> None:
        return None


class _Leases:
    lease_s = 3.0


async def test_requests_are_served_between_the_homes_being_opened() -> None:
    host = _CpuHost()
    placement = Placement(cast("LeaseTable", _Leases()), host)
    lease = Lease(home_id="h", epoch=1, valid_until=time.monotonic() + 3)
    served_after: list[int] = []

    async def request() -> None:  # a request to a home already open, arriving meanwhile
        while len(host.opened) < 100:
            served_after.append(len(host.opened))
            await asyncio.sleep(0)

    asker = asyncio.create_task(request())
    await asyncio.gather(*(placement._open(f"home-{i}", lease, None) for i in range(100)))
    await asker
    # The request got a turn at least once per OPEN_CONCURRENCY homes opened (those past the gate
    # resume in turn), not once after all 100: ~16 × a home's CPU at most, not all of them.
    turns = sorted(set(served_after))
    assert max(b - a for a, b in zip(turns, [*turns[1:], 100], strict=True)) <= OPEN_CONCURRENCY, turns
