from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from oneteam.hub import Hub, SqliteStorage, Storage, load_home
from oneteam.hub.postgres_store import PostgresStorage
from oneteam.integrations.virtual import VirtualAdapter
from tests.hub.postgres_server import running_postgres

_DATABASES = itertools.count()


@pytest.fixture
async def hub(tmp_path: Path, fixture_home_path: Path) -> AsyncIterator[Hub]:
    """A running hub over the fixture home with virtual appliances and a real SQLite file."""
    home = load_home(fixture_home_path)
    running = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the module's tests (started on first use)."""
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Storage]:
    """Opens storage on a database of this test's own, SQLite and PostgreSQL alike: each call is a
    new process's view of the same database (a restart, or the CLI beside the hub)."""
    if request.param == "sqlite":
        return lambda: SqliteStorage(tmp_path / "hub.sqlite3")
    server: str = request.getfixturevalue("postgres_url")
    name = f"hub_test_{next(_DATABASES)}"  # a fresh database, not tables dropped by a list that ages
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + f"/{name}"
    return lambda: PostgresStorage(url)
