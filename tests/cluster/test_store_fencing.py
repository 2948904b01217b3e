"""Writes fenced by the home's lease epoch (a real PostgreSQL server): once another process has
taken a home's lease, this process's writes for it are refused, not committed over the new
owner's; other homes in the same batch are committed; a takeover waits for a batch in flight;
a flush waits for the batch already being committed (its writes may be in it)."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from oneteam.cluster.lease import LeaseTable
from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.pgshared import HomeStorage, SharedPostgres
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


@pytest.fixture
def leases(postgres_url: str) -> None:
    """Homes a and b leased to this process under epoch 1."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(LEASES)


def _state(value: int) -> State:
    return State(device_id="tv", attributes={"v": value}, is_available=True, updated_at=time.time())


async def _stuck_flush(storage: HomeStorage) -> asyncio.Future[None]:
    """A flush that must not return while the writer's batch waits on a lease row someone else
    holds: not acknowledged while not committed."""
    flushing = asyncio.ensure_future(storage.flush())
    await asyncio.sleep(0.5)
    assert not flushing.done()
    return flushing


async def _value(shared: SharedPostgres, home: str) -> object:
    return (await shared.storage(home).load_states())["tv"].attributes["v"]


async def test_a_taken_homes_writes_are_refused_and_the_others_committed(
    shared: SharedPostgres, postgres_url: str, leases: None
) -> None:
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


@pytest.mark.parametrize("taken", [True, False], ids=["taken", "kept"])
async def test_a_batch_in_flight_is_waited_for_by_a_takeover_and_by_a_flush(
    shared: SharedPostgres, postgres_url: str, leases: None, taken: bool
) -> None:
    a = shared.storage("home-a", epoch=1)
    with psycopg.connect(postgres_url) as other:
        # Another process takes the lease as lease.py does (the row locked FOR UPDATE, then the
        # new owner and epoch), or only locks the row, in a transaction not yet ended: the
        # writer's batch stops half-way, waiting on the row.
        other.execute("SELECT 1 FROM public.home_leases WHERE home_id = 'home-a' FOR UPDATE")
        if taken:
            other.execute("UPDATE public.home_leases SET owner = 'other', epoch = 2 WHERE home_id = 'home-a'")
        a.put_state(_state(5))
        await asyncio.sleep(0.3)  # the writer has taken the batch: nothing is queued any more
        flushing = await _stuck_flush(a)  # yet the flush waits for that batch
        other.commit()
    if taken:  # the new owner's epoch: refused, nothing written
        with pytest.raises(StorageFailed, match="no longer served here"):
            await asyncio.wait_for(flushing, 30)
        assert "tv" not in await shared.storage("home-a").load_states()
    else:
        await asyncio.wait_for(flushing, 30)
        assert await _value(shared, "home-a") == 5


async def test_a_lease_is_renewed_while_a_batch_of_its_home_holds_the_row(
    shared: SharedPostgres, postgres_url: str, leases: None
) -> None:
    """A home written without pause keeps its lease: the fencing's lock on the lease row does not
    hold up (or make skip) the renewal, which only moves `expires_at`."""
    a = shared.storage("home-a", epoch=1)
    a.put_state(_state(1))
    await a.flush()
    table = LeaseTable(postgres_url, "me", "http://me", lease_s=3.0)
    await table.open()
    try:
        with psycopg.connect(postgres_url) as other:
            # The batch writing home-a waits on its state row, its lease row fenced meanwhile.
            other.execute(f"SELECT 1 FROM {SCHEMA}.states WHERE home_id = 'home-a' FOR UPDATE")
            a.put_state(_state(2))
            flushing = await _stuck_flush(a)
            assert sorted(await table.renew()) == ["home-a", "home-b"]
            with psycopg.connect(postgres_url, autocommit=True) as reader:
                left = reader.execute(
                    "SELECT home_id, expires_at < now() + interval '1 minute' FROM public.home_leases "
                    "ORDER BY home_id"
                ).fetchall()
            assert left == [("home-a", True), ("home-b", True)]  # renewed to 3 s (was an hour)
            other.commit()
        await asyncio.wait_for(flushing, 30)
        assert await _value(shared, "home-a") == 2
    finally:
        await table.close()
