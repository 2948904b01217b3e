"""Where a `oneteam member|token` command acts: a lone hub's household (its data folder, or its
PostgreSQL), or one cluster home's (`--home`, on the cluster's shared tables), and how a command's
work is run on it (an expected failure: a message and exit 2)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg

from oneteam.cli.context import OUT
from oneteam.hub import load_config, open_storage
from oneteam.hub.accounts_db import accounts_for
from oneteam.hub.config import require_database
from oneteam.hub.household import Household
from oneteam.hub.storage import Storage
from oneteam.i18n import render
from oneteam.interop.cli import DEFAULT_HOME
from oneteam.model import OneteamError

_HOME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
T = TypeVar("T")


@dataclass(frozen=True)
class Where:
    """Which household a command acts on: a lone hub's (its data folder, or `database_url`), or
    a cluster home's (`home`, in the cluster's PostgreSQL)."""

    data_dir: Path | None
    home: str = DEFAULT_HOME
    database_url: str | None = None

    @property
    def in_cluster(self) -> bool:
        return self.home != DEFAULT_HOME


def where_of(data_dir: Path | None, home: str, database_url: str | None) -> Where:
    """Checked options: a cluster home needs a PostgreSQL URL (the option, ONETEAM_DATABASE_URL or
    the hub's database_url); a bad home id or URL exits 2 before anything is opened."""
    if not _HOME_ID.fullmatch(home):
        OUT.fail(OUT.t("cluster.bad_home_id", home=home[:80]))
    url = database_url or os.environ.get("ONETEAM_DATABASE_URL") or None
    if home != DEFAULT_HOME and url is None:
        url = load_config(None, data_dir=data_dir).database_url
        if not url:
            OUT.fail(OUT.t("interop.cli.home_needs_database", home=home))
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        OUT.fail(OUT.t("cluster.bad_database", scheme=url.split(":")[0][:20]))
    return Where(data_dir, home, database_url if home == DEFAULT_HOME else url)


@asynccontextmanager
async def _household(where: Where) -> AsyncIterator[Household]:
    if where.in_cluster:
        async with _cluster_household(where) as household:
            yield household
        return
    if where.database_url is None:
        require_database(where.data_dir)  # never a fresh database in whatever folder this runs in
    storage = open_storage(load_config(None, data_dir=where.data_dir, database_url=where.database_url))
    await storage.open()
    try:
        async with _opened(storage) as household:
            yield household
    finally:
        await storage.close()


@asynccontextmanager
async def _opened(storage: Storage) -> AsyncIterator[Household]:
    """The household kept in `storage`, opened for the length of the block."""
    household = Household(accounts_for(storage), storage, list)
    try:
        await household.open()
        yield household
    finally:
        await household.close()


@asynccontextmanager
async def _cluster_household(where: Where) -> AsyncIterator[Household]:
    """A cluster home's household on the shared tables (the stores its serving process uses), so
    the process sees each change at its next check (the tables' change notices)."""
    from oneteam.cluster.lease import home_registered
    from oneteam.cluster.node import home_stores

    assert where.database_url is not None
    if not await home_registered(where.database_url, where.home):
        OUT.fail(OUT.t("cluster.unknown_home", home=where.home))
    async with home_stores(where.database_url) as shared, _opened(shared.storage(where.home)) as household:
        yield household


def run_on(where: Where, work: Callable[[Household], Awaitable[T]]) -> T:
    """Run `work` on the household; an expected failure is a message and exit 2."""

    async def go() -> T:
        async with _household(where) as household:
            return await work(household)

    try:
        return asyncio.run(go())
    except OneteamError as exc:
        OUT.fail(render(exc.key, OUT.language, **exc.params))
    except psycopg.OperationalError as exc:
        OUT.fail(OUT.t("cluster.database_down", error=str(exc).splitlines()[0][:200]), code=1)
