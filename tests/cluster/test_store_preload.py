"""A survivor taking many homes reads their openings at once (SharedPostgres.preload, a real
PostgreSQL): each home's storage, opened under the lease epoch it was taken with, gets the same
answers its own reads would give, each once; another epoch's storage asks the database itself."""

from __future__ import annotations

import time

import psycopg

from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub.accounts import Member, Role
from oneteam.hub.device_overrides import DeviceOverride
from oneteam.model import Event, EventKind, State
from tests.cluster.pg_fixtures import postgres_url, shared

__all__ = ["postgres_url", "shared"]


async def _fill(shared: SharedPostgres, home: str, value: int) -> None:
    """A home with states, events, a pending schedule, an override, its file and two sessions
    (one expired), written through its ordinary (unfenced) storage."""
    storage = shared.storage(home)
    now = time.time()
    storage.put_state(State(device_id="tv", attributes={"v": value}, is_available=True, updated_at=now))
    for i in range(1, value + 1):
        storage.put_event(Event(id=i, kind=EventKind.COMMAND, device_id="tv", data={}, at=now))
    await storage.flush()
    await storage.add_schedule(now + 60 * value, [{"device": "tv", "command": "turn_on"}], "voice")
    await storage.overrides_store().put(DeviceOverride(device_id="tv", name=f"tv {value}", updated_at=now))
    await storage.save_home("house", f"{home}.yaml", f"id: {home}\n")
    accounts = storage.accounts_store()
    await accounts.put_member(Member(name="mina", role=Role.ADULT))
    await accounts.add_session("mina", f"{home}-old", "session", now - 100, now - 1)
    await accounts.add_session("mina", f"{home}-new", "session", now, now + 3600)


async def _opening(storage: object) -> tuple[object, ...]:
    """What a hub reads as it opens (hub/core.py `__aenter__`), comparable across storages."""
    from oneteam.cluster.pgshared import HomeStorage

    assert isinstance(storage, HomeStorage)
    states = {k: dict(s.attributes) for k, s in (await storage.load_states()).items()}
    schedules = [(s.id, s.due_at) for s in await storage.pending_schedules()]
    overrides = [(o.device_id, o.name) for o in await storage.overrides_store().load()]
    return states, await storage.last_event_id(), schedules, await storage.stored_home(), overrides


def _sessions(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            f"SELECT home_id, token_hash FROM {SCHEMA}.member_sessions ORDER BY home_id, token_hash"
        ).fetchall()
    return [(str(h), str(t)) for h, t in rows]


async def test_a_takeover_reads_every_home_at_once_with_the_same_answers_each_once(
    shared: SharedPostgres, postgres_url: str
) -> None:
    await _fill(shared, "home-a", 2)
    await _fill(shared, "home-b", 3)
    alone = {h: await _opening(shared.storage(h)) for h in ("home-a", "home-b", "home-c")}
    assert alone["home-a"][1] == 2 and alone["home-b"][1] == 3  # the homes differ
    assert alone["home-c"] == ({}, 0, [], None, [])  # a home with no rows yet

    await shared.preload({"home-a": 7, "home-b": 7, "home-c": 7})
    # Expired sessions are not pruned at a takeover: a prune notifies, which would empty the token
    # checks' memory the read fills (an expired session is refused on use; the next sign-in prunes).
    assert _sessions(postgres_url) == [
        ("home-a", "home-a-new"),
        ("home-a", "home-a-old"),
        ("home-b", "home-b-new"),
        ("home-b", "home-b-old"),
    ]
    # A change made after the read (by the database's hand here) is not in the answers handed out:
    # they are what was read, once; the next read asks again.
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            f"UPDATE {SCHEMA}.states SET attributes = '{{\"v\": 99}}' WHERE home_id = 'home-a'"
        )
    taken = {h: shared.storage(h, epoch=7) for h in ("home-a", "home-b", "home-c")}
    assert {h: await _opening(s) for h, s in taken.items()} == alone
    assert (await _opening(taken["home-a"]))[0] == {"tv": {"v": 99}}

    # Another epoch (the home taken again later) never gets a read of an earlier takeover.
    await shared.preload({"home-b": 8})
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"UPDATE {SCHEMA}.states SET attributes = '{{\"v\": 5}}' WHERE home_id = 'home-b'")
    assert (await _opening(shared.storage("home-b", epoch=9)))[0] == {"tv": {"v": 5}}
    # And what a home did not use is forgotten once its open is over.
    shared.drop_preloaded("home-b")
    assert (await _opening(shared.storage("home-b", epoch=8)))[0] == {"tv": {"v": 5}}
