"""A home taken with others starts with its credentials read in the takeover's bulk read (a real
PostgreSQL): its first token checks cost no round trip on the shared pool, and a revocation that
lands while that read runs, after it, or after the home opened is refused at the next check on
every door. Values the read did not see are still read from the database; a bad one once per stamp."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from oneteam.cluster.home_apps import HomeApps
from oneteam.cluster.pgschema import SCHEMA, TOKENS_CHANNEL
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub import Hub, load_home
from oneteam.hub.accounts import Member, Role
from oneteam.hub.tokens import hash_token, new_token
from oneteam.model import Door
from tests.cluster.pg_fixtures import postgres_url, shared

__all__ = ["postgres_url", "shared"]

HOME = "home-a"
EPOCH = 5
DOORS = (Door.REST, Door.WS, Door.MCP, Door.VOICE, Door.PARTNER)
"""Doors asked through `grant_for`; the REST door is also asked through the home's app."""


class Reads:
    """Connections borrowed from the shared read pool: each is a round trip (or a wait for one)."""

    def __init__(self, shared: SharedPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        borrow = shared.pool.connection

        def counted(*args: Any, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
            self.count += 1
            return borrow(*args, **kwargs)

        monkeypatch.setattr(shared.pool, "connection", counted)

    @contextmanager
    def exactly(self, n: int) -> Iterator[None]:
        before = self.count
        yield
        assert self.count - before == n, f"{self.count - before} reads, not {n}"


async def _settled(shared: SharedPostgres, url: str) -> None:
    """Until this process has heard of every change committed so far (notifications arrive in
    commit order: a marker sent last is heard last)."""
    before = shared.token_stamp("marker")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("SELECT pg_notify(%s, 'marker')", (TOKENS_CHANNEL,))
    await _eventually(lambda: shared.token_stamp("marker") != before)


async def _fill(shared: SharedPostgres) -> dict[str, str]:
    """Home A: a household token, an adult with a token and a session, an expired session; home
    B: a token. Written as another process would (no hub of home A is open)."""
    values = {kind: new_token() for kind in ("household", "member", "session", "expired", "other home")}
    now = time.time()
    accounts = shared.storage(HOME).accounts_store()
    await accounts.put_member(Member(name="mina", role=Role.ADULT, created_at=now))
    await accounts.add_token("tablet", hash_token(values["household"]), now, door=None)
    await accounts.add_member_token(
        "phone", hash_token(values["member"]), now, door=None, member="mina", expires_at=None
    )
    await accounts.add_session("mina", hash_token(values["session"]), "session", now, now + 3600)
    await accounts.add_session("mina", hash_token(values["expired"]), "session", now - 60, now - 1)
    other = shared.storage("home-b").accounts_store()
    await other.add_token("tablet", hash_token(values["other home"]), now, door=None)
    return values


@asynccontextmanager
async def _opened(
    shared: SharedPostgres, home_file: Path, epoch: int
) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    """Home A's hub on its storage at `epoch` (as cluster/host.py opens it) and its REST app."""
    hub = Hub(load_home(home_file), shared.storage(HOME, epoch=epoch))
    async with hub:
        app = HomeApps(max_body_bytes=64 * 1024).app(hub, [], [], {})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://home") as client:
            yield hub, client


async def _doors(hub: Hub, client: httpx.AsyncClient, value: str) -> dict[str, bool]:
    """Whether each door lets `value` in."""
    answer = await client.get("/api/devices", headers={"Authorization": f"Bearer {value}"})
    assert answer.status_code in (200, 401), answer.text
    let_in = {"rest (app)": answer.status_code == 200}
    for door in DOORS:
        let_in[door.value] = await hub.grant_for(value, door) is not None
    return let_in


def _everywhere(let_in: bool) -> dict[str, bool]:
    return {"rest (app)": let_in} | {door.value: let_in for door in DOORS}


async def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


async def test_a_home_taken_with_others_checks_its_tokens_without_a_read(
    shared: SharedPostgres, postgres_url: str, fixture_home_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = await _fill(shared)
    await _settled(shared, postgres_url)
    reads = Reads(shared, monkeypatch)
    await shared.preload({HOME: EPOCH, "home-b": EPOCH, "home-c": EPOCH})
    async with _opened(shared, fixture_home_path, EPOCH) as (hub, client):
        with reads.exactly(0):
            for kind in ("household", "member", "session"):
                assert await _doors(hub, client, values[kind]) == _everywhere(True), kind
            caller = await hub.household.caller(values["member"])
            assert caller is not None and caller.member is not None and caller.member.name == "mina"
            assert await _doors(hub, client, values["expired"]) == _everywhere(False)
        # Another home's token is nobody here: read once, then remembered as nobody.
        with reads.exactly(1):
            assert await hub.household.caller(values["other home"]) is None
        with reads.exactly(0):
            assert await _doors(hub, client, values["other home"]) == _everywhere(False)
        # A token made by another process a moment ago: not in the read, so asked of the database.
        fresh = new_token()
        await (
            shared.storage(HOME).accounts_store().add_token("new", hash_token(fresh), time.time(), door=None)
        )
        assert await _doors(hub, client, fresh) == _everywhere(True)
    # The anchor: the same home opened under an epoch nobody read ahead reads its first check.
    async with _opened(shared, fixture_home_path, EPOCH + 1) as (hub, _):
        with reads.exactly(1):
            assert await hub.household.caller(values["household"]) is not None


async def _revoke(connection: psycopg.AsyncConnection[Any], token_hash: str) -> None:
    """What `oneteam cluster token --revoke` does to the row: delete it (the trigger notifies)."""
    await connection.execute(
        f"DELETE FROM {SCHEMA}.tokens WHERE home_id = %s AND token_hash = %s", (HOME, token_hash)
    )


async def _preload_with_a_revocation_inside(
    shared: SharedPostgres, url: str, token_hash: str, before: int
) -> None:
    """The revocation commits while the bulk read runs, after the credentials were read (the row
    was still there for them), and this process has heard of it before the read is over: the read
    of the members, which follows, waits on a lock another transaction holds on that table."""
    async with (
        await psycopg.AsyncConnection.connect(url) as revoking,
        await psycopg.AsyncConnection.connect(url) as holding,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as watching,
    ):
        await holding.execute(f"LOCK TABLE {SCHEMA}.members IN ACCESS EXCLUSIVE MODE")
        await _revoke(revoking, token_hash)
        reading = asyncio.create_task(shared.preload({HOME: EPOCH, "home-b": EPOCH}))
        deadline = time.monotonic() + 10
        while True:  # until the read is held at the members
            cursor = await watching.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                ("%SELECT name, role, display%",),
            )
            row = await cursor.fetchone()
            if row is not None and row[0] > 0:
                break
            assert not reading.done() and time.monotonic() < deadline, "the read did not wait"
            await asyncio.sleep(0.01)
        await revoking.commit()
        await _eventually(lambda: shared.token_stamp(HOME) != before)
        await holding.rollback()
        await reading


@pytest.mark.parametrize("when", ["during the read", "after the read", "after the home opened"])
async def test_a_revocation_around_the_read_is_refused_at_once_on_every_door(
    shared: SharedPostgres, postgres_url: str, fixture_home_path: Path, when: str
) -> None:
    values = await _fill(shared)
    await _settled(shared, postgres_url)
    revoked = hash_token(values["household"])
    before = shared.token_stamp(HOME)
    assert before is not None
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as cli:
        if when == "during the read":
            await _preload_with_a_revocation_inside(shared, postgres_url, revoked, before)
        else:
            await shared.preload({HOME: EPOCH, "home-b": EPOCH})
        if when == "after the read":
            await _revoke(cli, revoked)
        async with _opened(shared, fixture_home_path, EPOCH) as (hub, client):
            if when == "after the home opened":
                assert await _doors(hub, client, values["household"]) == _everywhere(True)
                await _revoke(cli, revoked)
            # Once this process has heard of the change, the very next check refuses, on every door.
            await _eventually(lambda: shared.token_stamp(HOME) != before)
            assert await _doors(hub, client, values["household"]) == _everywhere(False)
            for kind in ("member", "session"):
                assert await _doors(hub, client, values[kind]) == _everywhere(True), kind
