"""The per-home stores that live beside the hub's `Storage` (routines and runs, partner links,
OAuth codes and tokens), in PostgreSQL for every home a process serves.

A home that moves to another process on failover must find its routines, runs in a delay, links
and tokens there, so none of them may stay in a process-local SQLite file. Each home gets its rows
of shared tables (home_id first in every key, `PARTITION BY HASH (home_id)`, declared by
automation/store_pg.py and interop/smarthome/store_pg.py) through ONE small blocking pool per
process: the engine and the OAuth server call their stores synchronously (the engine inline, the
door in a thread), and 1,000 homes must not open 1,000 connections.

The tables are among those `pgschema.ensure_schema` creates (schema `oneteam_homes`, its partition
count). A single hub with `database_url` uses them too, as the home "default".
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from oneteam.automation.store_pg import PostgresRoutineStore
from oneteam.cluster.pgschema import PARTITIONS, connection_options, ensure_schema
from oneteam.cluster.pgshared import checked_home_id, lease_fence
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME, Sealer
from oneteam.interop.smarthome.store_pg import PostgresPartnerStore

DEFAULT_HOME = "default"
"""The home id of a single hub whose configuration names a PostgreSQL database."""


class TenantStores:
    """One process's pool for the per-home side tables, and each home's stores over it.

    `partner_key` is the file that seals partners' report-signing keys (sealed.py): every process
    serving homes must read the same one, or a moved home's partner keys do not open.
    """

    def __init__(
        self, url: str, *, partner_key: Path, partitions: int = PARTITIONS, max_connections: int = 4
    ) -> None:
        self.url = url
        self.partitions = partitions
        self.partner_key = partner_key
        self.max_connections = max_connections
        self._pool: ConnectionPool[Any] | None = None
        self._sealer: Sealer | None = None

    @classmethod
    def beside(cls, url: str, data_dir: Path) -> TenantStores:
        """For one hub: the partner key in its data folder, where the SQLite registry keeps it."""
        return cls(url, partner_key=data_dir / KEY_FILE_NAME)

    single_home = DEFAULT_HOME
    """The home id of a hub that is alone on its database (`oneteam serve` with database_url)."""

    async def open(self) -> None:
        """Create the shared tables unless they exist (pgschema.ensure_schema: these are among
        them), connect, and read the partner key."""
        if self._pool is not None:
            return
        await ensure_schema(self.url, self.partitions)
        self._sealer = await asyncio.to_thread(Sealer, self.partner_key)
        pool: ConnectionPool[Any] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.max_connections,
            kwargs=_pool_options(),
            name="oneteam-tenant-stores",
            open=False,
        )
        await asyncio.to_thread(pool.open, wait=True, timeout=10.0)
        self._pool = pool

    async def close(self) -> None:
        """Close the pool (after every home's engine and partner door have stopped)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.close)

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The process's blocking pool for these tables (open)."""
        if self._pool is None:
            raise RuntimeError("tenant stores are not open")
        return self._pool

    @property
    def sealer(self) -> Sealer:
        """What seals partners' signing keys (open)."""
        if self._sealer is None:
            raise RuntimeError("tenant stores are not open")
        return self._sealer

    def routines(self, home_id: str, *, epoch: int | None = None) -> PostgresRoutineStore:
        """The home's routines, runs and marks (for `Engine(hub, store)`); with the `epoch` of
        this process's lease on the home, its writes are refused once another process took it."""
        home = checked_home_id(home_id)
        return PostgresRoutineStore(
            self.pool, home, fence=None if epoch is None else lease_fence(home, epoch)
        )

    def partners(self, home_id: str, *, epoch: int | None = None) -> PostgresPartnerStore:
        """The home's partners, links, codes and tokens (for `SmartHomeService(hub, store)`);
        fenced by the lease `epoch` as `routines`."""
        home = checked_home_id(home_id)
        fence = None if epoch is None else lease_fence(home, epoch)
        return PostgresPartnerStore(self.pool, home, self.sealer, fence=fence)


def home_partners(url: str, data_dir: Path, home_id: str = DEFAULT_HOME) -> PostgresPartnerStore | None:
    """One home's partner tables, for one CLI command: a cluster's home (registered with
    `oneteam cluster add-home`; None when it is not) or a lone hub's "default". Blocking: it
    creates the tables if needed and opens one connection, closed with the store. The partner key
    is `data_dir`'s: for a cluster home, the one every node reads."""
    home = checked_home_id(home_id)
    stores = TenantStores.beside(url, data_dir)
    asyncio.run(ensure_schema(url, stores.partitions))
    pool: ConnectionPool[Any] = ConnectionPool(
        url, min_size=1, max_size=1, kwargs=_pool_options(), name="oneteam-cli", open=True
    )
    try:
        pool.wait(timeout=10.0)
        if home != DEFAULT_HOME and not _registered(pool, home):
            pool.close()
            return None
    except BaseException:
        pool.close()
        raise
    return PostgresPartnerStore(pool, home, Sealer(stores.partner_key), owns_pool=True)


def _registered(pool: ConnectionPool[Any], home_id: str) -> bool:
    """Whether the cluster knows the home (its `cluster_homes` row; no such table: no cluster)."""
    with pool.connection() as connection:
        table = connection.execute("SELECT to_regclass('public.cluster_homes')").fetchone()
        if table is None or table[0] is None:
            return False
        row = connection.execute(
            "SELECT 1 FROM public.cluster_homes WHERE home_id = %s", (home_id,)
        ).fetchone()
        return row is not None


def _pool_options() -> dict[str, Any]:
    """The shared tables' connection options, and generic plans for the prepared statements: a
    statement over 16 partitions is otherwise planned again at each call (PostgreSQL judges the
    generic plan dearer), which costs a home's lookup more than the lookup itself."""
    options = connection_options()
    return {**options, "options": f"{options['options']} -c plan_cache_mode=force_generic_plan"}
