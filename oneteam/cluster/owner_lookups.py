"""Where the homes not served here are, for every request that asks at once, in one query.

After a process dies, its homes' clients retry against the survivors (a balancer, the app) many
times a second each until the homes are open again: hundreds of requests a second for homes no
survivor serves yet. Each asked the lease table for the home's owner, and then for whether the home
is registered, one query after another on the process's one lease connection, which placement also
uses: a survivor's step that takes the dead process's homes queued behind them (~2 s at 1,000
homes, the other survivor took its share 2 s earlier). Here the requests that wait together are
answered by one query: at most one lookup is on the connection at a time, however many ask.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from oneteam.cluster.lease import Whereabouts


class _Table(Protocol):
    async def whereabouts(self, home_ids: list[str]) -> dict[str, Whereabouts]: ...


class OwnerLookups:
    """`whereabouts` of one home, asked of the table together with every other waiting one."""

    def __init__(self, table: _Table) -> None:
        self._table = table
        self._waiting: dict[str, list[asyncio.Future[Whereabouts]]] = {}
        self._running: asyncio.Task[None] | None = None
        self.queries = 0
        """Queries made (a test's and an operator's figure)."""

    async def whereabouts(self, home_id: str) -> Whereabouts:
        """Where `home_id` is served (the database's answer of a moment ago, as a query would give)."""
        future: asyncio.Future[Whereabouts] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(home_id, []).append(future)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._answer(), name="owner-lookups")
        return await future

    async def _answer(self) -> None:
        """Ask for everything waiting, again while more came in meanwhile."""
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                self.queries += 1
                found = await self._table.whereabouts(sorted(batch))
            except Exception as exc:  # every waiter gets the failure, as its own query would
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for home_id, futures in batch.items():
                answer = found.get(home_id, Whereabouts(None, registered=False))
                for future in futures:
                    if not future.done():  # a request gone meanwhile (its client left)
                        future.set_result(answer)

    async def aclose(self) -> None:
        """Stop answering (what waits gets CancelledError)."""
        if self._running is not None:
            self._running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._running
        for futures in self._waiting.values():
            for future in futures:
                future.cancel()
        self._waiting.clear()
