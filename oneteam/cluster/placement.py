"""Which homes this process serves: rendezvous hashing over the live processes, held by leases.

Two supervised loops per process (hub/supervisor.py: named, logged when they fail, restarted):

- `lease-renew` says the process is alive and renews every lease it holds, a few times per lease
  time. A home whose lease did not come back (taken over after this process stalled) is closed at
  once; a home whose local deadline passes without a renewal stops answering (the router checks).
- `placement` compares the homes this process holds with the ones rendezvous hashing gives it over
  the live members (heartbeat within two lease times): it takes, in one statement, the leases of
  its homes that are free or expired, and opens them (OPEN_CONCURRENCY at once, each served as
  soon as it is open). A home whose lease expired is placed by hashing over the members other
  than the one that let it lapse, so a dead process's homes move as soon as its leases run out,
  not once its heartbeat has aged out of the member list. It hands
  back gracefully the homes that now hash to a newly joined live member, once held here for
  HANDOFF_AFTER_S (closed first, then released, so two processes never serve one home together).
  A home nobody has taken for a lease time may be taken by any process, so a member that is alive
  but stuck (or dead, yet still within its heartbeat window) does not strand its homes.

The database decides every contest (lease.py); the hashing only keeps processes from competing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import psycopg
from psycopg.rows import tuple_row

from oneteam.cluster.heap import Heap
from oneteam.cluster.lease import MEMBER_LEASES, Lease, LeaseTable
from oneteam.hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)

OPEN_CONCURRENCY = 16
"""Homes opened at once by one process (each open reads its states and connects to the broker)."""
HANDOFFS_PER_STEP = 32
"""Homes handed back to a joining process per placement step, so a join is a ripple, not a stall."""
HANDOFF_AFTER_S = 10.0
"""A home is handed back only after this long here: membership seen by a loaded process may flicker,
and a home must not bounce between processes with it."""


def _score(node_id: str, home_id: str) -> int:
    digest = hashlib.blake2b(f"{node_id}\x00{home_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def preferred_owner(home_id: str, node_ids: Sequence[str]) -> str | None:
    """The member rendezvous hashing gives `home_id` (highest score; ties by id), or None."""
    if not node_ids:
        return None
    return max(node_ids, key=lambda n: (_score(n, home_id), n))


class Owners:
    """What rendezvous hashing gives each home, kept while the member set is the same: a busy
    process's placement step (every 0.5 s) then hashes no home again, only looks it up (hashing
    every held home over every member each step was a tenth of a loaded process's samples)."""

    KEPT_SETS = 8
    """Member sets remembered at once (the live members, and those without an expired owner)."""

    def __init__(self) -> None:
        self._by_set: dict[frozenset[str], dict[str, str | None]] = {}

    def owner(self, home_id: str, members: frozenset[str]) -> str | None:
        """`preferred_owner(home_id, members)`, hashed once per home and member set."""
        known = self._by_set.get(members)
        if known is None:
            if len(self._by_set) >= self.KEPT_SETS:
                self._by_set.clear()  # membership changed: the old answers are of no use
            known = self._by_set[members] = {}
        if home_id in known:
            return known[home_id]
        owner = known[home_id] = preferred_owner(home_id, sorted(members))
        return owner


class HomeOpener(Protocol):
    """What placement drives: the host that opens and closes homes (host.HomeHost)."""

    def open_homes(self) -> Iterable[str]: ...

    async def prepare(self, epochs: Mapping[str, int]) -> None: ...

    async def open_home(
        self, home_id: str, lease: Lease, record: tuple[str, str | None, str | None] | None = None
    ) -> None: ...

    async def close_home(self, home_id: str) -> None: ...

    def renewed(self, leases: dict[str, Lease]) -> None: ...


class Placement:
    """The lease and placement loops of one process."""

    def __init__(
        self,
        leases: LeaseTable,
        host: HomeOpener,
        *,
        interval_s: float = 0.5,
        homes_refresh_s: float = 5.0,
        handoff: bool = True,
        heap: Heap | None = None,
    ) -> None:
        self.leases = leases
        self.host = host
        self.interval_s = interval_s
        self.renew_s = leases.lease_s / 3
        self.homes_refresh_s = homes_refresh_s
        self.handoff = handoff
        self.supervisor = Supervisor("placement", backoff_base_s=0.2, backoff_max_s=2.0)
        self.held: dict[str, Lease] = {}
        """Leases held as of the last renewal or acquisition."""
        self._homes: list[str] = []
        self._homes_read_at = -1e9
        self._unowned_since: dict[str, float] = {}
        self._opening: set[str] = set()
        self._taken_at: dict[str, float] = {}
        self._takes: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(OPEN_CONCURRENCY)
        self._owners = Owners()
        self.heap = heap
        """The process's collector policy (heap.py), when this placement runs a whole process."""

    async def __aenter__(self) -> Placement:
        await self.leases.heartbeat()
        self.supervisor.spawn("lease-renew", self._renew_loop)
        self.supervisor.spawn("placement", self._place_loop)
        self.supervisor.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop both loops, close every home, then release the leases and leave the cluster."""
        await self.supervisor.stop()
        for task in list(self._takes):
            task.cancel()
        await asyncio.gather(*self._takes, return_exceptions=True)
        for home_id in list(self.host.open_homes()):
            await self.host.close_home(home_id)
        try:
            await self.leases.leave()
        except Exception:  # the database may be the reason we stop; the leases then simply expire
            _LOGGER.warning("could not release leases on the way out", exc_info=True)

    # -- loops ----------------------------------------------------------------------------------

    async def _renew_loop(self) -> None:
        """Apply what the renewer thread got, a few times per lease, and tell it the loop lives."""
        renewer = _Renewer(self.leases, self.renew_s)
        renewer.start()
        # The loop's pulse on a task of its own: closing many lost homes in `apply` takes a while
        # and must not read as a stuck loop (the renewer would then stop renewing the rest).
        pulse = asyncio.create_task(self._pulse(renewer), name="lease-renew-pulse")
        try:
            seen = 0.0
            while True:
                renewer.check()
                if pulse.done():
                    pulse.result()  # raises what ended it; the supervisor restarts this loop
                    raise RuntimeError("the loop pulse ended")
                if renewer.renewed_at != seen:
                    seen = renewer.renewed_at
                    await self.apply(renewer.held, asked_at=seen)
                await asyncio.sleep(self.renew_s / 2)
        finally:
            pulse.cancel()
            renewer.stop()

    async def _pulse(self, renewer: _Renewer) -> None:
        while True:
            renewer.loop_tick = time.monotonic()
            await asyncio.sleep(self.renew_s / 2)

    async def apply(self, renewed: dict[str, Lease], *, asked_at: float) -> None:
        """Take a renewal's answer (sent at monotonic `asked_at`): deadlines move on; a home
        missing from it was taken over (after its lease ran out) and is closed."""
        held = dict(renewed)
        # A lease taken since the statement was sent is not in its answer; keep acquire's.
        for home_id, lease in self.held.items():
            if home_id not in held and (
                home_id in self._opening or self._taken_at.get(home_id, -1.0) >= asked_at
            ):
                held[home_id] = lease
        self.held = held
        self.host.renewed(held)
        for home_id in [h for h in self.host.open_homes() if h not in held]:
            _LOGGER.warning("lost the lease of home %s; closing it", home_id)
            await self.host.close_home(home_id)
            if self.heap is not None:
                self.heap.closed(time.monotonic())

    async def renew_once(self) -> None:
        """One renewal on the loop's own connection (tests; the loop uses the renewer thread)."""
        asked_at = time.monotonic()
        await self.leases.heartbeat()
        await self.apply(await self.leases.renew(), asked_at=asked_at)

    async def _place_loop(self) -> None:
        while True:
            await self.place_once()
            await asyncio.sleep(self.interval_s)

    async def place_once(self) -> None:
        now = time.monotonic()
        if self.heap is not None:
            self.heap.step(now)
        if now - self._homes_read_at > self.homes_refresh_s:
            self._homes = await self.leases.home_ids()
            self._homes_read_at = now
        members = [m.node_id for m in await self.leases.members()]
        me = self.leases.node_id
        if me not in members:
            members.append(me)
        everyone = frozenset(members)
        rows = await self.leases.lease_rows()
        opened = set(self.host.open_homes())
        to_take: list[str] = []
        to_hand: list[str] = []
        for home_id in self._homes:
            owner, live, beating = rows.get(home_id, ("", False, False))
            if not live:
                since = self._unowned_since.setdefault(home_id, now)
                # An expired lease whose owner's heartbeat stopped too (dead, or cut off from the
                # database) goes at once to the member hashing places it on among the others, not
                # after that heartbeat ages out of the member list. An owner still beating is
                # only late (an overloaded database): its homes wait the usual two leases.
                candidates = frozenset(m for m in members if m != owner or beating) or everyone
                if home_id not in self._opening and (
                    self._owners.owner(home_id, candidates) == me
                    or now - since > MEMBER_LEASES * self.leases.lease_s
                ):
                    to_take.append(home_id)
                continue
            self._unowned_since.pop(home_id, None)
            if owner == me and home_id not in opened and home_id not in self._opening:
                to_take.append(home_id)  # ours in the table (restart within a lease) but not open
            elif (
                owner == me
                and self.handoff
                and home_id in opened
                and now - self._taken_at.get(home_id, now) > HANDOFF_AFTER_S
                and self._owners.owner(home_id, everyone) != me
            ):
                to_hand.append(home_id)
        for home_id in to_hand[:HANDOFFS_PER_STEP]:
            _LOGGER.info("handing home %s to %s", home_id, self._owners.owner(home_id, everyone))
            await self.host.close_home(home_id)
            if self.heap is not None:
                self.heap.closed(time.monotonic())
            self.held.pop(home_id, None)
            await self.leases.release(home_id)
        if to_take:
            # All leases in one statement, then the homes opened in tasks of their own (at most
            # OPEN_CONCURRENCY at once, each served as soon as it is open): the next steps and
            # hand-offs need not wait for a slow open.
            self._opening.update(to_take)
            task = asyncio.create_task(self._take(to_take), name=f"take-{len(to_take)}-homes")
            self._takes.add(task)
            task.add_done_callback(self._takes.discard)

    async def _take(self, home_ids: list[str]) -> None:
        began = time.monotonic()
        try:
            leases = await self.leases.acquire_many(home_ids)
            records = await self.leases.home_records(list(leases)) if leases else {}
            if leases:  # their opening reads, for all of them at once
                await self.host.prepare({h: lease.epoch for h, lease in leases.items()})
        except Exception:
            _LOGGER.exception("taking %d homes failed; the next step tries again", len(home_ids))
            self._opening.difference_update(home_ids)
            return
        taken_at = time.monotonic()
        for home_id in home_ids:
            if home_id in leases:
                self._unowned_since.pop(home_id, None)
                self._taken_at[home_id] = taken_at
                self.held[home_id] = leases[home_id]
            else:
                self._opening.discard(home_id)  # someone else was quicker; the database said so
        if leases:
            _LOGGER.info("took %d homes; opening them", len(leases))
        await asyncio.gather(*(self._open(h, lease, records.get(h)) for h, lease in leases.items()))
        if leases and self.heap is not None:
            self.heap.opened()  # what these homes hold lives while they are served
        if leases:
            opened = set(self.host.open_homes())
            _LOGGER.info(
                "%d homes open %.1f s after their leases were taken (read at once in %.1f s)",
                sum(1 for h in leases if h in opened),
                time.monotonic() - began,
                taken_at - began,
            )

    async def _open(
        self, home_id: str, lease: Lease, record: tuple[str, str | None, str | None] | None
    ) -> None:
        try:
            async with self._gate:
                await self.host.open_home(home_id, lease, record)
        except Exception:
            # Not served here: give it back so another process (or our next step) tries again.
            _LOGGER.exception("home %s did not open; releasing its lease", home_id)
            self.held.pop(home_id, None)
            try:
                await self.leases.release(home_id)
            except Exception:
                _LOGGER.exception("could not release home %s; its lease will expire", home_id)
        finally:
            self._opening.discard(home_id)


LOOP_STALL_S = 15.0
"""The renewer stops renewing when the event loop has not ticked for this long: a process whose loop
is stuck must lose its homes, while one that is only slow under load for a few seconds keeps them."""


class _Renewer:
    """Heartbeat and lease renewal on a thread and a blocking connection of their own.

    A process opening hundreds of homes on a loaded machine can keep its event loop busy for longer
    than a lease; renewing from that loop would let leases lapse and homes bounce between processes.
    The thread renews as long as the loop ticked within LOOP_STALL_S; its failures are logged, and
    it reconnects. `check` raises on the loop when the thread died, so the supervisor restarts it."""

    def __init__(self, leases: LeaseTable, interval_s: float) -> None:
        self.leases = leases
        self.interval_s = interval_s
        self.loop_tick = time.monotonic()
        self.held: dict[str, Lease] = {}
        self.renewed_at = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-renew-{leases.node_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def check(self) -> None:
        if not self._thread.is_alive() and not self._stopping.is_set():
            raise RuntimeError("the lease renewer thread ended")

    def _run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                if started - self.loop_tick > LOOP_STALL_S:
                    _LOGGER.error(
                        "event loop stalled for %.0f s: leases left to expire", started - self.loop_tick
                    )
                else:
                    if conn is None or conn.closed:
                        conn = psycopg.connect(self.leases.url, autocommit=True, row_factory=tuple_row)
                    self.held = self.leases.renew_blocking(conn)
                    self.renewed_at = started
            except psycopg.Error:
                _LOGGER.exception("lease renewal failed; reconnecting")
                if conn is not None:
                    conn.close()
                conn = None
            self._stopping.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        if conn is not None:
            conn.close()
