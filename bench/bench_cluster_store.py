"""Many homes' writes through one process's shared PostgreSQL writer.

A process serving 1,000 homes commits their state changes through ONE group-commit writer on ONE
small pool (cluster/pgshared.py): each command waits for the commit of its state and event, and
what all homes queued meanwhile goes in the same transaction. Measured: commands/s (a state and
an event each, acknowledged = committed) with every home sending at once, beside the anchor of
the same run: raw psycopg `executemany` of the same rows into the same partitioned tables, 1,000
commands per transaction, nothing awaited per command (what the database takes at best from one
connection). Also: one home's command alone (p50/p99 from put to acknowledged, the writer's round
trips with nothing else to batch), the memory one home's stores cost in the process, and the
server connections. `--fenced` gives every home a lease (epoch 1, as a `serve --cluster` process
holds them), so each batch also checks and locks the lease rows, as in the cluster.

Run: `.venv/bin/python bench/bench_cluster_store.py` (a private PostgreSQL server is started;
`--postgres-url` for another; `--homes`, `--per-home`, `--fenced`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine
from _rounds import ROUNDS, load_line, print_rounds

from oneteam.cluster.pgschema import SCHEMA
from oneteam.cluster.pgshared import HOMES, SharedPostgres
from oneteam.model import Event, EventKind, State

DEVICES = 10


LEASES = """
CREATE TABLE IF NOT EXISTS public.home_leases (
  home_id TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL
);
DELETE FROM public.home_leases;
INSERT INTO public.home_leases
  SELECT 'home-' || i, 'bench', 1, now() + interval '1 hour' FROM generate_series(0, %s - 1) AS i;
"""
"""Every home leased to this process under epoch 1 (the columns cluster/lease.py keeps)."""


async def _shared_round(
    shared: SharedPostgres, homes: int, per_home: int, start_id: int, epoch: int | None
) -> float:
    """Commands/s: every home sends `per_home` commands one after another, all homes at once."""

    async def home(i: int) -> None:
        storage = shared.storage(f"home-{i}", epoch=epoch)
        for n in range(per_home):
            now = time.time()
            storage.put_state(
                State(device_id=f"d{n % DEVICES}", attributes={"n": n}, is_available=True, updated_at=now)
            )
            storage.put_event(
                Event(id=start_id + n, kind=EventKind.STATE_CHANGED, device_id=f"d{n % DEVICES}", at=now)
            )
            await storage.flush()

    started = time.perf_counter()
    await asyncio.gather(*(home(i) for i in range(homes)))
    return homes * per_home / (time.perf_counter() - started)


async def _lone_commands(shared: SharedPostgres, count: int, start_id: int, epoch: int | None) -> list[float]:
    """Milliseconds from put to acknowledged of `count` commands of one home, one at a time."""
    storage = shared.storage("home-0", epoch=epoch)
    took = []
    for n in range(count):
        began = time.perf_counter()
        now = time.time()
        storage.put_state(State(device_id="d0", attributes={"n": n}, is_available=True, updated_at=now))
        storage.put_event(Event(id=start_id + n, kind=EventKind.STATE_CHANGED, device_id="d0", at=now))
        await storage.flush()
        took.append(1000 * (time.perf_counter() - began))
    return took


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _raw_round(url: str, homes: int, per_home: int, start_id: int) -> float:
    """Commands/s for the anchor: the same rows, executemany, 1,000 commands per transaction."""
    rows = [(f"home-{i}", n) for n in range(per_home) for i in range(homes)]
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute(f"SET search_path TO {SCHEMA}")
        started = time.perf_counter()
        for at in range(0, len(rows), 1000):
            batch = rows[at : at + 1000]
            now = time.time()
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.executemany(
                    HOMES.put_state,
                    [
                        {
                            "home": h,
                            "device_id": f"d{n % DEVICES}",
                            "attributes": Jsonb({"n": n}),
                            "is_available": True,
                            "updated_at": now,
                        }
                        for h, n in batch
                    ],
                )
                await cursor.executemany(
                    HOMES.put_event,
                    [
                        {
                            "home": h,
                            "id": start_id + n,
                            "kind": EventKind.STATE_CHANGED.value,
                            "device_id": f"d{n % DEVICES}",
                            "source": "",
                            "data": Jsonb({}),
                            "at": now,
                        }
                        for h, n in batch
                    ],
                )
        return len(rows) / (time.perf_counter() - started)


def _bytes_per_home(shared: SharedPostgres, homes: int) -> float:
    """What one home's three stores (storage, household, device changes) hold in this process."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [(s, s.accounts_store(), s.overrides_store()) for s in map(shared.storage, map(str, range(homes)))]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(kept) == homes
    return used / homes


def _connections(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else -1


@contextlib.contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    from tests.hub.postgres_server import running_postgres

    with running_postgres() as started:
        yield started


LONE = 200
"""Commands of one home, one at a time, per round of the lone-command figure."""


async def main(url: str, homes: int, per_home: int, pool_size: int, fenced: bool) -> None:
    print(f"# {homes:,} homes through one shared PostgreSQL writer ({machine()})")
    fence = "every home fenced by its lease" if fenced else "no fences"
    print(f"  {load_line()}; pool_size {pool_size}; {per_home} commands per home per round; {fence}")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        if fenced:
            connection.execute(LEASES % int(homes))
    epoch = 1 if fenced else None
    shared = SharedPostgres(url, pool_size=pool_size)
    await shared.open()
    ours: list[float] = []
    anchor: list[float] = []
    lone: list[float] = []
    connections = 0
    try:
        for r in range(ROUNDS):
            first = 2 * r * per_home + 1
            ours.append(await _shared_round(shared, homes, per_home, start_id=first, epoch=epoch))
            connections = max(connections, await asyncio.to_thread(_connections, url))
            anchor.append(await _raw_round(url, homes, per_home, start_id=(2 * r + 1) * per_home + 1))
            lone += await _lone_commands(shared, LONE, start_id=10**9 + r * LONE, epoch=epoch)
        per_home_bytes = _bytes_per_home(shared, homes)
    finally:
        await shared.close()
    print_rounds("shared writer, commands/s (state + event each, awaited until committed)", ours)
    print(
        f"  one home's command alone, put to acknowledged: p50 {_percentile(lone, 0.5):.2f} ms,"
        f" p99 {_percentile(lone, 0.99):.2f} ms ({len(lone)} commands)"
    )
    print_rounds("anchor: raw executemany, commands/s (1,000 per transaction, nothing awaited)", anchor)
    print(f"  server connections while {homes:,} homes wrote: {connections} (pool_size {pool_size})")
    print(f"  memory per home, its storage + household + device-change stores: {per_home_bytes:,.0f} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--per-home", type=int, default=20)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--fenced", action="store_true", help="every home's writes checked against its lease")
    args = parser.parse_args()
    with _postgres(args.postgres_url) as postgres_url:
        asyncio.run(main(postgres_url, args.homes, args.per_home, args.pool_size, args.fenced))
