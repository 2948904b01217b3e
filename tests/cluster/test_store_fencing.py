"""Writes fenced by the home's lease epoch (a real PostgreSQL server): once another process has
taken a home's lease, this process's writes for it are refused, not committed over the new
owner's; other homes in the same batch are committed; a takeover waits for a batch in flight;
a flush waits for the batch already being committed (its writes may be in it)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub.group_commit import StorageFailed
from oneteam.model import State
from tests.cluster.pg_fixtures import postgres_url, shared

__all__ = ["postgres_url", "shared"]

# The columns cluster/lease.py keeps (home_id, owner, epoch, expires_at).
LEASES = """
CREATE TABLE IF NOT EXISTS public.home_leases (
  home_id TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL
);
DELETE FROM public.home_leases;
INSERT INTO public.home_leases VALUES ('home-a', 'me', 1, now() + interval '1 hour'),
  ('home-b', 'me', 1, now() + interval '1 hour');
"""


def _state(value: int) -> State:
    return State(device_id="tv", attributes={"v": value}, is_available=True, updated_at=time.time())


async def _value(shared: SharedPostgres, home: str) -> object:
    return (await shared.storage(home).load_states())["tv"].attributes["v"]


async def test_a_taken_homes_writes_are_refused_and_the_others_committed(
    shared: SharedPostgres, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(LEASES)
    a, b = shared.storage("home-a", epoch=1), shared.storage("home-b", epoch=1)
    unfenced = shared.storage("home-c")
    for storage in (a, b, unfenced):
        storage.put_state(_state(1))
    await asyncio.gather(a.flush(), b.flush(), unfenced.flush())
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE public.home_leases SET owner = 'other', epoch = 2 WHERE home_id = 'home-a'"
        )
    for storage in (a, b, unfenced):
        storage.put_state(_state(2))
    outcome = await asyncio.gather(a.flush(), b.flush(), unfenced.flush(), return_exceptions=True)
    assert isinstance(outcome[0], StorageFailed) and "home-a" in str(outcome[0])
    assert list(outcome[1:]) == [None, None]
    assert [await _value(shared, h) for h in ("home-a", "home-b", "home-c")] == [1, 2, 2]
    # Served again under the new epoch, its writes go through.
    again = shared.storage("home-a", epoch=2)
    again.put_state(_state(3))
    await again.flush()
    assert await _value(shared, "home-a") == 3


async def test_a_takeover_waits_for_the_batch_in_flight(shared: SharedPostgres, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(LEASES)
    a = shared.storage("home-a", epoch=1)
    with psycopg.connect(postgres_url) as takeover:
        # Another process takes the lease in a transaction it has not committed yet.
        takeover.execute("UPDATE public.home_leases SET owner = 'other', epoch = 2 WHERE home_id = 'home-a'")
        a.put_state(_state(7))
        flushing = asyncio.ensure_future(a.flush())
        await asyncio.sleep(0.5)
        assert not flushing.done()  # the batch waits on the lease row
        takeover.commit()
    with pytest.raises(StorageFailed, match="no longer served here"):
        await asyncio.wait_for(flushing, 30)
    assert "tv" not in await shared.storage("home-a").load_states()


async def test_a_flush_waits_for_the_batch_already_being_committed(
    shared: SharedPostgres, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(LEASES)
    a = shared.storage("home-a", epoch=1)
    with psycopg.connect(postgres_url) as holder:
        # Hold the lease row, so the writer's batch stops half-way (waiting on it).
        holder.execute("SELECT 1 FROM public.home_leases WHERE home_id = 'home-a' FOR UPDATE")
        a.put_state(_state(5))
        await asyncio.sleep(0.3)  # the writer has taken the batch: nothing is queued any more
        flushing = asyncio.ensure_future(a.flush())
        await asyncio.sleep(0.3)
        assert not flushing.done()  # not acknowledged while its batch is not committed
        holder.rollback()
    await asyncio.wait_for(flushing, 30)
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute(
            "SELECT attributes FROM oneteam_homes.states WHERE home_id = 'home-a' AND device_id = 'tv'"
        ).fetchone()
    assert row == ({"v": 5},)
