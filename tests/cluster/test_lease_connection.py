"""The lease table's connection comes back when the database drops it (a real PostgreSQL).

Placement and the requests asking where a home is each use a LeaseTable's one connection. A
database restart or an administrator's pg_terminate_backend used to leave it closed for the rest of
the process's life: placement failed every step (it took no dead process's homes) and every look-up
failed. Now the statement that finds the connection lost fails, and the next one runs on a new one.
"""

from __future__ import annotations

import logging

import psycopg
import pytest

from oneteam.cluster.lease import LeaseTable, Whereabouts, register_home
from tests.cluster.pg_fixtures import postgres_url

__all__ = ["postgres_url"]

_KILL_OTHERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


async def test_a_dropped_connection_is_replaced(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="oneteam.cluster.lease")
    for home_id in ("h1", "h2"):
        await register_home(postgres_url, home_id, f"id: {home_id}\n")
    table = LeaseTable(postgres_url, "me", "http://me:1", lease_s=30.0)
    await table.open()
    try:
        await table.heartbeat()
        assert sorted(await table.acquire_many(["h1"])) == ["h1"]
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
            killed = await (await admin.execute(_KILL_OTHERS)).fetchall()
        assert len(killed) == 1, killed  # the table's connection, the only other one

        with pytest.raises(psycopg.OperationalError):
            await table.heartbeat()  # this statement finds the connection gone
        assert "lease table connection lost" not in caplog.text

        # Every later statement runs, on a new connection: a transaction too.
        assert [m.node_id for m in await table.members()] == ["me"]
        assert "lease table connection lost: connecting again" in caplog.text
        assert sorted(await table.renew()) == ["h1"]
        assert sorted(await table.acquire_many(["h2"])) == ["h2"]
        assert (await table.whereabouts(["h2", "nowhere"])) == {
            "h2": Whereabouts(("me", "http://me:1"), registered=True),
            "nowhere": Whereabouts(None, registered=False),
        }
    finally:
        await table.close()

    with pytest.raises(RuntimeError, match="not open"):
        await table.heartbeat()  # closed on purpose: not opened again behind the owner's back
