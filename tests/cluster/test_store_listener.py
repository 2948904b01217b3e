"""The process's one LISTEN connection (token changes of every home) comes back when it drops.

A real PostgreSQL; the listening backend is killed with pg_terminate_backend, as an administrator
or a database failover would. The process notices, logs it, listens again on a new backend, counts
every home's tokens as possibly changed (what was said meanwhile is unknown), and hears the next
change of one home.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import psycopg
import pytest

from oneteam.cluster.pgschema import TOKENS_CHANNEL
from oneteam.cluster.pgshared import SharedPostgres
from tests.cluster import tenant_fixtures

tenant_pg = tenant_fixtures.tenant_pg

_LISTENERS = "SELECT pid FROM pg_stat_activity WHERE query = %s AND pid != pg_backend_pid()"


async def _eventually(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def test_a_killed_listener_is_opened_again(tenant_pg: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="oneteam.cluster.pgshared")
    shared = SharedPostgres(tenant_pg)
    await shared.open()
    admin = await psycopg.AsyncConnection.connect(tenant_pg, autocommit=True)
    try:
        listen = f"LISTEN {TOKENS_CHANNEL}"
        pids = [row[0] for row in await (await admin.execute(_LISTENERS, (listen,))).fetchall()]
        assert len(pids) == 1, pids
        before = {home: shared.token_stamp(home) for home in ("h1", "h2")}
        assert None not in before.values()

        await admin.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
        await _eventually(lambda: shared.listener_reopened == 1)
        now = [row[0] for row in await (await admin.execute(_LISTENERS, (listen,))).fetchall()]
        assert len(now) == 1 and now != pids, now
        assert "token-change listener lost" in caplog.text and "open again" in caplog.text

        # Every home's stamp moved (changes while deaf are unknown), and one home's change is heard.
        after = {home: shared.token_stamp(home) for home in ("h1", "h2")}
        assert all(after[h] != before[h] for h in after), (before, after)
        await admin.execute("SELECT pg_notify(%s, 'h1')", (TOKENS_CHANNEL,))
        await _eventually(lambda: shared.token_stamp("h1") != after["h1"])
        assert shared.token_stamp("h2") == after["h2"]
    finally:
        await admin.close()
        await shared.close()
    assert shared.listener_reopened == 1
