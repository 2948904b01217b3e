"""A request for a home this process is opening waits for the open and is served by the home (a
real PostgreSQL), instead of 503 home_starting and a retry a second later: a survivor taking
hundreds of homes answered thousands of such retries between opens. An open that fails ends the
wait at once with 503 home_starting, as before."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from oneteam.cluster.host import OPENING_WAIT_S, HomeHost
from oneteam.cluster.lease import Lease, LeaseTable
from oneteam.cluster.pgshared import SharedPostgres
from tests.cluster.cluster_nodes import register_homes
from tests.cluster.pg_fixtures import drop_shared_tables, postgres_url

__all__ = ["postgres_url"]

HOME = "opening"
GHOST = "never-registered"


def virtual_host(leases: LeaseTable, shared: SharedPostgres, data_dir: Path, **options: Any) -> HomeHost:
    """A host of homes with virtual devices only, over the shared tables (each home read at once)."""
    return HomeHost(
        leases,
        lambda home, epoch: shared.storage(home, epoch=epoch),
        data_dir=data_dir,
        parts=("virtual",),
        preloads=shared,
        **options,
    )


async def test_a_request_for_a_home_being_opened_is_served_once_it_opens(
    postgres_url: str, tmp_path: Path
) -> None:
    drop_shared_tables(postgres_url)
    token = register_homes(postgres_url, [HOME])[HOME]
    shared = SharedPostgres(postgres_url, pool_size=4)
    leases = LeaseTable(postgres_url, "me", "http://me:1")
    await shared.open()
    await leases.open()
    host = virtual_host(leases, shared, tmp_path)
    try:
        await leases.heartbeat()
        taken = await leases.acquire_many([HOME])
        await host.prepare({HOME: taken[HOME].epoch, GHOST: 1})
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://me")
        auth = {"Authorization": f"Bearer {token}"}

        asked = time.monotonic()
        waiting = asyncio.create_task(client.get(f"/homes/{HOME}/api/devices", headers=auth))
        ghost = asyncio.create_task(client.get(f"/homes/{GHOST}/api/devices", headers=auth))
        await asyncio.sleep(0.5)
        assert not waiting.done() and not ghost.done()  # neither refused while its home opens

        await host.open_home(HOME, taken[HOME])
        answer = await asyncio.wait_for(waiting, OPENING_WAIT_S)
        assert answer.status_code == 200, answer.text
        assert {d["id"] for d in answer.json()["devices"]} >= {"light_living"}
        assert time.monotonic() - asked < OPENING_WAIT_S  # woken by the open, not by the bound

        # An open that fails (the home is not registered) answers its waiting request at once.
        failed_at = time.monotonic()
        ghost_lease = Lease(home_id=GHOST, epoch=1, valid_until=time.monotonic() + 3)
        with pytest.raises(KeyError):
            await host.open_home(GHOST, ghost_lease)
        refused = await asyncio.wait_for(ghost, OPENING_WAIT_S)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "home_starting"
        assert time.monotonic() - failed_at < 1.0
        await client.aclose()
    finally:
        await host.close()
        await leases.close()
        await shared.close()
