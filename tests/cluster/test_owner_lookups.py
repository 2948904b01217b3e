"""Requests for homes not served here ask where they are together (a real PostgreSQL): hundreds
asking at once get each home's answer, the same as its own queries would give, from one query;
nothing is kept between queries, and a failed query fails only the requests that waited on it."""

from __future__ import annotations

import asyncio
import random

import pytest

from oneteam.cluster.lease import LeaseTable, Whereabouts, register_home
from oneteam.cluster.owner_lookups import OwnerLookups
from tests.cluster.pg_fixtures import postgres_url

__all__ = ["postgres_url"]

LEASED = [f"leased-{i}" for i in range(40)]
FREE = [f"free-{i}" for i in range(40)]
UNKNOWN = [f"unknown-{i}" for i in range(40)]


async def _one_by_one(table: LeaseTable, home_id: str) -> Whereabouts:
    """What a request asked before: the owner, then whether the home is registered."""
    return Whereabouts(await table.owner_of(home_id), await table.home_record(home_id) is not None)


async def test_requests_asking_together_are_answered_by_one_query(postgres_url: str) -> None:
    for home_id in LEASED + FREE:
        await register_home(postgres_url, home_id, f"id: {home_id}\n")
    peer = LeaseTable(postgres_url, "peer", "http://peer:1")
    me = LeaseTable(postgres_url, "me", "http://me:2")
    await peer.open()
    await me.open()
    try:
        await peer.heartbeat()
        await me.heartbeat()
        assert sorted(await peer.acquire_many(LEASED)) == sorted(LEASED)
        expected = {h: await _one_by_one(me, h) for h in LEASED + FREE + UNKNOWN}
        assert expected[LEASED[0]] == Whereabouts(("peer", "http://peer:1"), registered=True)
        assert expected[FREE[0]] == Whereabouts(None, registered=True)
        assert expected[UNKNOWN[0]] == Whereabouts(None, registered=False)

        lookups = OwnerLookups(me)
        asked = (LEASED + FREE + UNKNOWN) * 3
        random.Random(7).shuffle(asked)
        answers = await asyncio.gather(*(lookups.whereabouts(h) for h in asked))
        assert [(h, a) for h, a in zip(asked, answers, strict=True) if a != expected[h]] == []
        assert lookups.queries <= 2, lookups.queries  # was one query per request, two for most

        # A lease that moved is seen by the next request: nothing is remembered between queries.
        await peer.release(LEASED[0])
        assert (await lookups.whereabouts(LEASED[0])).owner is None
        assert LEASED[0] in await me.acquire_many([LEASED[0]])
        assert (await lookups.whereabouts(LEASED[0])).owner == ("me", "http://me:2")

        # The lease connection gone: the requests waiting on that query fail; later ones ask again.
        await me.close()
        failed = await asyncio.gather(*(lookups.whereabouts(h) for h in FREE[:5]), return_exceptions=True)
        assert all(isinstance(f, RuntimeError) for f in failed), failed
        await me.open()
        assert await lookups.whereabouts(FREE[0]) == expected[FREE[0]]
        # Closed (the process stops): a request still waiting is cancelled, not left hanging.
        waiting = asyncio.create_task(lookups.whereabouts(FREE[1]))
        await asyncio.sleep(0)
        await lookups.aclose()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 5)
    finally:
        await peer.close()
        await me.close()
