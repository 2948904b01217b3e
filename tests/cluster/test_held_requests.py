"""A request for a home whose owner died is held at the door until the home has moved, then served
once (cluster/held_requests.py), instead of 503 and the client's retry storm; a caller that leaves
while held is not carried out later; a home that does not move in time is refused after the wait.

Real PostgreSQL, the host served by a real uvicorn on a TCP port, the dead owner a real port nothing
listens on (connection refused). The dead owner's lease is taken by a short-lived LeaseTable that
simply stops renewing, as a killed process does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from oneteam.cluster.host import HomeHost
from oneteam.cluster.lease import LeaseTable
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub.storage import EventQuery
from oneteam.model.event import EventKind
from tests.cluster.cluster_nodes import register_homes
from tests.cluster.pg_fixtures import drop_shared_tables, postgres_url
from tests.cluster.test_host_opening import virtual_host
from tests.conftest import free_port

__all__ = ["postgres_url"]

HOME = "held"
DEAD_LEASE_S = 1.0
HOST_LEASE_S = 1.5
"""The host's lease time: a request is held at most two of them (3 s) for its home to move."""
COMMAND = "/homes/held/api/devices/light_living/commands"


@dataclass
class _Door:
    host: HomeHost
    leases: LeaseTable
    url: str
    token: str


@asynccontextmanager
async def _door(
    postgres_url: str, tmp_path: Path, *, max_body_bytes: int = 64 * 1024
) -> AsyncIterator[_Door]:
    """HOME registered, leased to a dead owner for DEAD_LEASE_S; a host over uvicorn in front."""
    drop_shared_tables(postgres_url)
    token = register_homes(postgres_url, [HOME])[HOME]
    shared = SharedPostgres(postgres_url, pool_size=4)
    dead = LeaseTable(postgres_url, "gone", f"http://127.0.0.1:{free_port()}", lease_s=DEAD_LEASE_S)
    leases = LeaseTable(postgres_url, "me", "http://me:1", lease_s=HOST_LEASE_S)
    await shared.open()
    await dead.open()
    await leases.open()
    host = virtual_host(leases, shared, tmp_path, max_body_bytes=max_body_bytes)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(host, port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        await dead.heartbeat()
        await leases.heartbeat()
        assert HOME in await dead.acquire_many([HOME])
        await dead.close()  # never renewed again: killed
        while not server.started:
            await asyncio.sleep(0.02)
        yield _Door(host, leases, f"http://127.0.0.1:{port}", token)
    finally:
        server.should_exit = True
        await serving
        await host.close()
        await leases.close()
        await shared.close()


async def _take_over(door: _Door) -> float:
    """Take HOME once the dead owner's lease ran out and open it here; when it was open."""
    while not (taken := await door.leases.acquire_many([HOME])):
        await asyncio.sleep(0.05)
    await door.host.prepare({HOME: taken[HOME].epoch})
    await door.host.open_home(HOME, taken[HOME])
    return time.monotonic()


async def _brightness(door: _Door) -> int | None:
    async with httpx.AsyncClient(base_url=door.url, timeout=10) as client:
        state = await client.get(
            "/homes/held/api/devices/light_living/state", headers={"Authorization": f"Bearer {door.token}"}
        )
    assert state.status_code == 200, state.text
    value = state.json()["attributes"].get("brightness")
    return None if value is None else int(value)


async def test_a_request_for_a_dead_owners_home_is_held_and_served_once_it_moved(
    postgres_url: str, tmp_path: Path
) -> None:
    async with _door(postgres_url, tmp_path) as door:
        asked = time.monotonic()
        async with httpx.AsyncClient(base_url=door.url, timeout=10) as client:
            command = asyncio.create_task(
                client.post(
                    COMMAND,
                    json={"command": "set_brightness", "value": 42},
                    headers={"Authorization": f"Bearer {door.token}"},
                )
            )
            await asyncio.sleep(0.3)
            assert not command.done()  # the owner refuses connections, yet the caller is not refused
            opened_at = await _take_over(door)
            answer = await command
        assert answer.status_code == 200, answer.text
        assert time.monotonic() - asked >= DEAD_LEASE_S * 0.9  # held through the lease's end
        assert time.monotonic() - opened_at < 1.0  # answered once the home was open here
        assert await _brightness(door) == 42
        # Carried out once: one command event in the home's log for it.
        commands = await door.host.hub(HOME).events(EventQuery(kinds=(EventKind.COMMAND,)))
        assert len(commands) == 1, commands


async def test_a_caller_that_leaves_while_held_is_not_carried_out_later(
    postgres_url: str, tmp_path: Path
) -> None:
    async with _door(postgres_url, tmp_path) as door:
        port = int(door.url.rsplit(":", 1)[1])
        body = json.dumps({"command": "set_brightness", "value": 7}).encode()
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST {COMMAND} HTTP/1.1\r\nhost: door\r\nauthorization: Bearer {door.token}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()  # the client gives up while its home has no owner
        await writer.wait_closed()
        await _take_over(door)
        await asyncio.sleep(HOST_LEASE_S / 2)  # past any poll a held request would still make
        door.host.renewed(await door.leases.renew())  # (no placement loop renews here)
        assert await _brightness(door) != 7
        assert await door.host.hub(HOME).events(EventQuery(kinds=(EventKind.COMMAND,))) == []


async def test_a_home_that_does_not_move_is_refused_after_the_wait(postgres_url: str, tmp_path: Path) -> None:
    async with (
        _door(postgres_url, tmp_path, max_body_bytes=256) as door,
        httpx.AsyncClient(base_url=door.url, timeout=10) as client,
    ):
        auth = {"Authorization": f"Bearer {door.token}"}
        asked = time.monotonic()
        refused = await client.get("/homes/held/api/devices", headers=auth)
        took = time.monotonic() - asked
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] in ("home_unreachable", "home_starting")
        assert refused.headers["retry-after"] == "1"
        assert 2 * HOST_LEASE_S * 0.9 <= took < 2 * HOST_LEASE_S + 2.0
        # A body over the home's limit is refused as the home would (413), not held.
        big = await client.post(
            COMMAND, content=b"x" * 1000, headers={**auth, "content-type": "application/json"}
        )
        assert big.status_code == 413, big.text
        assert big.json()["error"] == "body_too_large"
