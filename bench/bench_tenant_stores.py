"""What keeping routines and partner tokens in PostgreSQL costs, per call, beside SQLite.

The routine engine writes a run's step before it moves on (start_run, save_run), reads marks on
every clock tick, and the partner door looks up an access token on every fulfillment request. With
a PostgreSQL URL each of these is one statement on one process-wide blocking pool, among the rows
of many homes (home_id first in every key, hash-partitioned). Printed beside the anchors measured
in the same run: the same calls on the hub's SQLite file, a bare `SELECT 1` on a connection of the
same pool (the round trip every statement pays), and the mark lookup on an unpartitioned copy of
its table (what the hash partitions cost a read).

Run: `.venv/bin/python bench/bench_tenant_stores.py` (a private PostgreSQL server is started when
its programs are installed, or `--postgres-url postgresql://...`; `--homes` rows of other homes
are written first so lookups run among them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, postgres_server

from oneteam.automation.store import AutomationStore, RoutineStorage
from oneteam.interop.smarthome.store import PartnerStorage, PartnerStore


def _per_call_us(work: Callable[[], Any], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        work()
    return (time.perf_counter() - started) / rounds * 1e6


def _measure(name: str, routines: RoutineStorage, partners: PartnerStorage, rounds: int) -> dict[str, float]:
    routines.open()
    routines.put_routine("bench", "routine", {"id": "bench", "actions": []}, True, "api")
    run = routines.start_run("bench", {"kind": "manual"})
    run.trace["steps"].append({"action": "command", "device": "tv", "status": "ok"})
    routines.set_mark("clock", time.time())
    partner, _ = partners.add_partner("bench", ["https://partner.example/cb"])
    link = partners.create_link(partner.client_id, "bench", ("*",), "devices.read")
    partners.save_tokens(
        link.id, partner.client_id, "bench-access", "bench-refresh", "devices.read", 3600, 86400
    )
    figures = {
        "start_run": _per_call_us(lambda: routines.start_run("bench", {"kind": "manual"}), rounds),
        "save_run": _per_call_us(lambda: routines.save_run(run), rounds),
        "mark": _per_call_us(lambda: routines.mark("clock"), rounds),
        "by_access": _per_call_us(lambda: partners.by_access("bench-access"), rounds),
    }
    routines.close()
    partners.close()
    print(f"## {name}")
    for key, value in figures.items():
        print(f"{key:<40} {value:8.1f} µs")
    return figures


async def main(rounds: int, homes: int, postgres_url: str | None) -> None:
    print(f"# per-home side stores, per call ({machine()})")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        _measure("SQLite (the hub's file)", AutomationStore(path), PartnerStore(path), rounds)
    with postgres_server(postgres_url) as url:
        if url is None:
            print("## PostgreSQL: not installed, skipped")
            return
        from oneteam.cluster.tenant_stores import TenantStores

        with tempfile.TemporaryDirectory() as folder:
            stores = TenantStores(url, partner_key=Path(folder) / "partners.key")
            await stores.open()
            try:
                for i in range(homes):  # other homes' rows around the measured one
                    other = stores.routines(f"other-{i}")
                    other.put_routine("bench", "routine", {"id": "bench", "actions": []}, True, "api")
                    other.start_run("bench", {"kind": "manual"})
                    stores.partners(f"other-{i}").save_tokens(
                        "l_x", "p_x", f"access-{i}", None, "devices.read", 3600, 3600
                    )
                pool = stores.routines("bench").pool
                with pool.connection() as connection:
                    round_trip = _per_call_us(lambda: connection.execute("SELECT 1").fetchall(), rounds)
                    # The mark lookup on an unpartitioned copy: what the 16 partitions cost a read.
                    connection.execute(
                        "CREATE TEMP TABLE plain_marks AS SELECT * FROM automation_marks;"
                        " ALTER TABLE plain_marks ADD PRIMARY KEY (home_id, name)"
                    )
                    plain = _per_call_us(
                        lambda: connection.execute(
                            "SELECT value FROM plain_marks WHERE home_id = %s AND name = %s",
                            ("bench", "clock"),
                        ).fetchall(),
                        rounds,
                    )
                    partitioned = _per_call_us(
                        lambda: connection.execute(
                            "SELECT value FROM automation_marks WHERE home_id = %s AND name = %s",
                            ("bench", "clock"),
                        ).fetchall(),
                        rounds,
                    )
                _measure(
                    f"PostgreSQL (home 'bench' among {homes:,} others, {stores.partitions} partitions)",
                    stores.routines("bench"),
                    stores.partners("bench"),
                    rounds,
                )
                print(f"{'anchor: SELECT 1 on a held connection':<40} {round_trip:8.1f} µs")
                print(f"{'mark lookup, held connection':<40} {partitioned:8.1f} µs")
                print(f"{'anchor: same lookup, unpartitioned copy':<40} {plain:8.1f} µs")
            finally:
                await stores.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2_000)
    parser.add_argument("--homes", type=int, default=1_000)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.homes, args.postgres_url))
