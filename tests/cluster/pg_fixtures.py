"""A real PostgreSQL server for the cluster's store tests, emptied of the shared tables per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.pgshared import SharedPostgres
from tests.hub.postgres_server import running_postgres


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with running_postgres() as url:
        yield url


def drop_shared_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture
async def shared(postgres_url: str) -> AsyncIterator[SharedPostgres]:
    drop_shared_tables(postgres_url)
    db = SharedPostgres(postgres_url, pool_size=4, partitions=4)
    await db.open()
    try:
        yield db
    finally:
        await db.close()
