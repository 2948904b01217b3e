"""A real PostgreSQL server for the tenant-store tests, and one process's `TenantStores` on it;
every test takes homes of its own (`new_home`), so rows of different tests never meet."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from oneteam.cluster.tenant_stores import TenantStores
from tests.hub.postgres_server import running_postgres


@pytest.fixture(scope="module")
def tenant_pg() -> Iterator[str]:
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def tenants(tenant_pg: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TenantStores]:
    stores = TenantStores(tenant_pg, partner_key=tmp_path_factory.mktemp("keys") / "partners.key")
    asyncio.run(stores.open())  # module-wide, outside the tests' own event loops
    yield stores
    asyncio.run(stores.close())


def new_home() -> str:
    """A home id no other test uses."""
    return "h_" + uuid.uuid4().hex[:10]
