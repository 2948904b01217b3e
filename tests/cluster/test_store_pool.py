"""The shared store's promises on a real PostgreSQL server: a thousand homes open at once on a
few connections, and a write acknowledged to a home survives a kill -9 of the process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import psycopg

from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.pgshared import SharedPostgres
from oneteam.hub.tokens import hash_token
from oneteam.model import State
from tests.cluster.pg_fixtures import drop_shared_tables, postgres_url

__all__ = ["postgres_url"]

HOMES = 1000


def _client_connections(url: str, at_most: int) -> int:
    """Connections to the server other than the one asking, once at most `at_most` (a closed
    connection's server process may still be listed for a moment while it exits: give it 3 s;
    the pool's connections stay open, so a pool past its size still fails)."""
    deadline = time.monotonic() + 3
    with psycopg.connect(url) as connection:
        while True:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND pid <> pg_backend_pid()"
            ).fetchone()
            count = int(row[0]) if row else -1
            if count <= at_most or time.monotonic() > deadline:
                return count
            time.sleep(0.05)


async def test_a_thousand_homes_share_pool_size_connections(postgres_url: str) -> None:
    drop_shared_tables(postgres_url)
    shared = SharedPostgres(postgres_url, pool_size=4, partitions=4)
    await shared.open()
    try:
        homes = [shared.storage(f"home-{i}") for i in range(HOMES)]
        for storage in homes:
            await storage.open()
        now = time.time()
        for i, storage in enumerate(homes):
            storage.put_state(State(device_id="tv", attributes={"i": i}, is_available=True, updated_at=now))
        # Every home reads at once while the writer commits: they queue for the pool.
        await asyncio.gather(homes[0].flush(), *(s.token_by_hash(hash_token(s.home_id)) for s in homes))
        states = await asyncio.gather(*(s.load_states() for s in homes[:50]))
        assert [s["tv"].attributes["i"] for s in states] == list(range(50))
        busy = await asyncio.to_thread(_client_connections, postgres_url, 4)
        assert 3 <= busy <= 4, busy  # the read pool (1 to 2), the writer's and the listener, never more
        for storage in homes:
            await storage.close()
    finally:
        await shared.close()
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute(f"SELECT count(DISTINCT home_id), count(*) FROM {SCHEMA}.states").fetchone()
    assert row == (HOMES, HOMES)
    assert await asyncio.to_thread(_client_connections, postgres_url, 0) == 0


WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from oneteam.cluster.pgshared import SharedPostgres
    from oneteam.model import State

    def state(device_id, **attributes):
        return State(device_id=device_id, attributes=attributes, is_available=True, updated_at=time.time())

    async def main() -> None:
        shared = SharedPostgres(sys.argv[1], pool_size=3, partitions=4)
        await shared.open()
        homes = [shared.storage(f"home-{i}") for i in range(20)]
        for i, home in enumerate(homes):
            home.put_state(state("tv", acked=i))
        await homes[-1].flush()
        print("acked", flush=True)
        n = 0
        while True:  # more writes, never acknowledged, until the kill
            n += 1
            homes[n % 20].put_state(state(f"d{n}"))
            await asyncio.sleep(0.001)

    asyncio.run(main())
    """
)


def test_an_acknowledged_write_survives_a_kill_of_the_writer(postgres_url: str) -> None:
    drop_shared_tables(postgres_url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, postgres_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        line = writer.stdout.readline()
        assert line.strip() == "acked", writer.stderr.read() if writer.stderr else ""
        time.sleep(0.2)  # let it be mid-way through later batches
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(10) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    asyncio.run(_every_acknowledged_state_is_there(postgres_url))


async def _every_acknowledged_state_is_there(url: str) -> None:
    shared = SharedPostgres(url, pool_size=3, partitions=4)
    await shared.open()
    try:
        for i in range(20):
            states = await shared.storage(f"home-{i}").load_states()
            assert states["tv"].attributes == {"acked": i}
    finally:
        await shared.close()
