"""Many homes in one PostgreSQL database (a real server): each home's storage sees only its own
rows, the tables are hash-partitioned by home."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from oneteam.cluster.pgschema import SCHEMA, ensure_schema, home_tables
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub import EventQuery
from oneteam.hub.group_commit import StorageFailed
from oneteam.model import Event, EventKind, State
from tests.cluster.pg_fixtures import postgres_url, shared

__all__ = ["postgres_url", "shared"]


def _state(device_id: str, value: int) -> State:
    return State(device_id=device_id, attributes={"value": value}, is_available=True, updated_at=time.time())


async def test_two_homes_with_the_same_device_ids_never_see_each_other(shared: SharedPostgres) -> None:
    a, b = shared.storage("home-a"), shared.storage("home-b")
    await a.open()
    await b.open()
    now = time.time()
    # Same device ids, same event ids: each home's rows are its own.
    a.put_state(_state("tv", 1))
    b.put_state(_state("tv", 2))
    b.put_state(_state("lamp", 3))
    for i in (1, 2):
        a.put_event(Event(id=i, kind=EventKind.COMMAND, device_id="tv", data={"home": "a"}, at=now))
    b.put_event(Event(id=1, kind=EventKind.COMMAND, device_id="tv", data={"home": "b"}, at=now - 7200))
    await a.flush()
    assert {k: s.attributes["value"] for k, s in (await a.load_states()).items()} == {"tv": 1}
    assert {k: s.attributes["value"] for k, s in (await b.load_states()).items()} == {"tv": 2, "lamp": 3}
    assert [e.data["home"] for e in await a.events(EventQuery())] == ["a", "a"]
    assert [e.data["home"] for e in await b.events(EventQuery(device_id="tv"))] == ["b"]
    assert await a.last_event_id() == 2 and await b.last_event_id() == 1
    assert await a.prune_events(now - 3600) == 0  # b's old event is not a's to prune
    assert await b.prune_events(now - 3600) == 1

    token = await a.add_token("phone", "f" * 64, now)
    assert await a.token_by_hash("f" * 64) is not None
    assert await b.token_by_hash("f" * 64) is None and not await b.has_token_hash("f" * 64)
    assert await b.tokens() == []
    assert not await b.revoke_token(token.id)  # b cannot revoke a's token by its id
    assert await a.has_token_hash("f" * 64)
    # The same hash may exist in two homes: each is its own token.
    other = await b.add_token("phone", "f" * 64, now)
    assert other.id != token.id
    assert await a.revoke_token(token.id) and await b.has_token_hash("f" * 64)

    await a.save_home("house", "a.yaml", "a: 1\n")
    assert await a.stored_home() == "a: 1\n" and await b.stored_home() is None
    booked = await a.add_schedule(now + 60, [{"device": "tv", "command": "turn_on"}], "voice")
    assert await b.pending_schedules() == []
    await b.finish_schedule(booked, "cancelled")  # b's statement cannot touch a's row
    assert [s.id for s in await a.pending_schedules()] == [booked]


async def test_a_token_change_wakes_only_that_homes_checks(shared: SharedPostgres, postgres_url: str) -> None:
    a, b = shared.storage("home-a"), shared.storage("home-b")
    stamp_a, stamp_b = a.token_stamp(), b.token_stamp()
    assert stamp_a is not None and stamp_b is not None
    # Another process (its own SharedPostgres) adds a token to home a.
    other = SharedPostgres(postgres_url, pool_size=3, partitions=4)
    await other.open()
    try:
        await other.storage("home-a").add_token("tablet", "e" * 64, time.time())
    finally:
        await other.close()
    for _ in range(200):
        if a.token_stamp() != stamp_a:
            break
        await asyncio.sleep(0.01)
    assert a.token_stamp() != stamp_a
    assert b.token_stamp() == stamp_b


def _partitions(url: str) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT c.relname, count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'p'"
            " GROUP BY c.relname",
            (SCHEMA,),
        ).fetchall()
    return {str(name): int(count) for name, count in rows}


async def test_every_home_table_is_hash_partitioned_by_home(
    shared: SharedPostgres, postgres_url: str
) -> None:
    partitions = _partitions(postgres_url)
    hub = {"homes", "states", "events", "schedules", "tokens", "members", "member_sessions"}
    hub |= {"token_members", "device_overrides"}
    assert hub <= {t.name for t in home_tables()[0]}
    assert partitions == {t.name: 4 for t in home_tables()[0]}
    with psycopg.connect(postgres_url) as connection:
        keys = connection.execute(
            "SELECT c.relname, pg_get_partkeydef(c.oid),"
            " (SELECT a.attname FROM pg_index x JOIN pg_attribute a ON a.attrelid = c.oid"
            "  AND a.attnum = x.indkey[0] WHERE x.indrelid = c.oid AND x.indisprimary)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'p'",
            (SCHEMA,),
        ).fetchall()
    assert {(k, first) for _, k, first in keys} == {("HASH (home_id)", "home_id")}
    # Each home's rows land in one partition, found by the home's hash.
    storage = shared.storage("home-a")
    storage.put_state(_state("tv", 1))
    await storage.flush()
    with psycopg.connect(postgres_url) as connection:
        (holder,) = connection.execute(
            f"SELECT tableoid::regclass::text FROM {SCHEMA}.states WHERE home_id = 'home-a'"
        ).fetchone() or ("",)
    assert holder.startswith(f"{SCHEMA}.states_p")


async def test_the_schema_is_made_once_and_keeps_its_partition_count(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    await ensure_schema(postgres_url, partitions=8)
    await ensure_schema(postgres_url, partitions=8)  # again: nothing changes, nothing fails
    assert set(_partitions(postgres_url).values()) == {8}
    with pytest.raises(ValueError, match="8 partitions"):
        await ensure_schema(postgres_url, partitions=16)
    with pytest.raises(ValueError, match="between 1 and 1024"):
        await ensure_schema(postgres_url, partitions=0)


async def test_bad_home_ids_are_refused(shared: SharedPostgres) -> None:
    for bad in ("", "a/b", "x" * 65, "-lead", "홈"):
        with pytest.raises(ValueError, match="not a home id"):
            shared.storage(bad)


async def test_a_single_home_store_and_the_shared_tables_live_in_one_database(
    shared: SharedPostgres, postgres_url: str
) -> None:
    from oneteam.hub.postgres_store import PostgresStorage

    single = PostgresStorage(postgres_url)  # its own tables, in the public schema
    await single.open()
    try:
        single.put_state(_state("tv", 10))
        shared.storage("default").put_state(_state("tv", 20))
        await single.flush()
        await shared.storage("default").flush()
        assert (await single.load_states())["tv"].attributes["value"] == 10
        assert (await shared.storage("default").load_states())["tv"].attributes["value"] == 20
        await single.add_token("phone", "d" * 64, time.time())
        assert await shared.storage("default").token_by_hash("d" * 64) is None
    finally:
        await single.close()


async def test_one_homes_unstorable_write_fails_only_that_homes_commands(
    shared: SharedPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = shared.storage("home-good"), shared.storage("home-bad")
    good.put_state(_state("tv", 1))
    # JSON has no NaN: the database rejects the row (a sensor sent one).
    bad.put_state(
        State(device_id="probe", attributes={"value": float("nan")}, is_available=True, updated_at=1.0)
    )
    outcome = await asyncio.gather(good.flush(), bad.flush(), return_exceptions=True)
    assert "a batch of 2 homes was rejected" in caplog.text  # both were in one batch
    assert outcome[0] is None
    assert isinstance(outcome[1], StorageFailed) and "NaN" in str(outcome[1])
    assert (await good.load_states())["tv"].attributes["value"] == 1
    assert await bad.load_states() == {}
    bad.put_state(_state("probe", 2))  # the home's next write goes through
    await bad.flush()
    assert (await bad.load_states())["probe"].attributes["value"] == 2
