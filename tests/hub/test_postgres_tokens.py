"""Token checks on PostgreSQL are remembered like SQLite's and forgotten at once when any process
changes a token: a real PostgreSQL server, a real hub behind uvicorn, the real CLI revoking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest

from oneteam.api.app import create_app
from oneteam.hub import Hub, load_home
from oneteam.hub.postgres_store import PostgresStorage
from oneteam.hub.storage import TokenRecord
from oneteam.hub.tokens import hash_token
from oneteam.integrations.virtual import VirtualAdapter
from tests.conftest import oneteam_cli
from tests.hub.postgres_server import running_postgres
from tests.interop.smarthome.conftest import DEMO_HOME, Serve


class CountedPostgres(PostgresStorage):
    """The real store, counting how often a token is looked up in the database."""

    lookups = 0

    async def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        self.lookups += 1
        return await super().token_by_hash(token_hash)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@pytest.fixture
async def hub(postgres_url: str) -> AsyncIterator[Hub]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    home = load_home(DEMO_HOME)
    running = Hub(home, CountedPostgres(postgres_url))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


async def test_a_remembered_token_is_not_looked_up_again(hub: Hub) -> None:
    storage = hub.storage
    assert isinstance(storage, CountedPostgres)
    before = storage.token_stamp()
    token = await hub.create_token("tablet")
    # The creation's own NOTIFY arrives a moment later and rightly forgets what was remembered:
    # wait for it, so the count below measures remembering, not that race.
    for _ in range(500):
        if storage.token_stamp() != before:
            break
        await asyncio.sleep(0.01)
    assert storage.token_stamp() != before, "the token's creation was never notified"
    await asyncio.sleep(0.2)  # any notification still on its way lands before counting
    lookups = storage.lookups
    for _ in range(50):
        assert await hub.authenticate(token) is not None
    assert storage.lookups - lookups == 1
    assert storage.token_stamp() is not None


async def test_a_token_made_or_revoked_by_another_process_changes_the_stamp(
    hub: Hub, postgres_url: str
) -> None:
    storage = hub.storage
    token = await hub.create_token("tablet")
    assert await hub.authenticate(token) is not None
    before = storage.token_stamp()
    assert storage.token_stamp() == before  # nothing changed: same stamp, no lookup
    other = PostgresStorage(postgres_url)
    await other.open()
    try:
        record = await other.token_by_hash(hash_token(token))
        assert record is not None
        assert await other.revoke_token(record.id)
    finally:
        await other.close()
    # The revocation committed (and its notification left the server) before revoke_token returned;
    # it reaches the listening socket a moment later (milliseconds; more on a loaded machine).
    for _ in range(200):
        if storage.token_stamp() != before:
            break
        await asyncio.sleep(0.01)
    assert storage.token_stamp() != before, "the revocation was never notified"
    assert await hub.authenticate(token) is None


async def test_the_cli_revoking_a_token_stops_the_very_next_rest_request(hub: Hub, postgres_url: str) -> None:
    token = await hub.create_token("tablet")
    record = await hub.authenticate(token)
    assert record is not None
    async with (
        Serve(create_app(hub)) as api,
        httpx.AsyncClient(base_url=api.url, headers={"Authorization": f"Bearer {token}"}) as client,
    ):
        for _ in range(3):  # remembered after the first
            assert (await client.get("/api/devices")).status_code == 200
        revoked = oneteam_cli("token", "revoke", str(record.id), env={"ONETEAM_DATABASE_URL": postgres_url})
        assert revoked.returncode == 0, revoked.stderr
        assert (await client.get("/api/devices")).status_code == 401
        assert (await client.get("/api/token")).status_code == 401
