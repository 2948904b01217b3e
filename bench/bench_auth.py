"""Token checks per request: what immediate revocation costs.

Every REST request and every MCP call checks its bearer token. A confirmed token is remembered
only while storage's token stamp is unchanged: SQLite's `PRAGMA data_version` (it changes when
another process, such as `oneteam token revoke`, commits to the file), PostgreSQL's count of
notifications on the `oneteam_tokens` channel (a trigger sends one with every change to the
tokens, read from the listening socket without waiting). So each check costs one stamp read plus
a dict lookup. Printed beside the anchors measured in the same run: hashing the token (which every
check does anyway) and asking storage outright (what a check costs with no remembering at all).

Run: `.venv/bin/python bench/bench_auth.py` (PostgreSQL: a private server is started when its
programs are installed, or `--postgres-url postgresql://...`).
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

from oneteam.hub import Hub, SqliteStorage, Storage, load_home
from oneteam.hub.tokens import hash_token
from oneteam.model import Door

DEMO_HOME = Path(__file__).resolve().parents[1] / "oneteam" / "homes" / "demo.yaml"


async def _per_call_us(work: Callable[[], Any], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        result = work()
        if asyncio.iscoroutine(result):
            await result
    return (time.perf_counter() - started) / rounds * 1e6


async def _measure(name: str, storage: Storage, rounds: int) -> None:
    hub = Hub(load_home(DEMO_HOME), storage)
    async with hub:
        token = await hub.create_token("bench")
        token_hash = hash_token(token)
        assert await hub.authenticate(token) is not None
        checked = await _per_call_us(lambda: hub.authenticate(token), rounds)
        stamp = await _per_call_us(hub.storage.token_stamp, rounds)
        hashing = await _per_call_us(lambda: hash_token(token), rounds)
        uncached = await _per_call_us(lambda: hub.storage.token_by_hash(token_hash), rounds // 10)
        # Household members: a child's own token and sign-in session, each turned into the Grant
        # every door uses (its device list computed from the home's devices on every request).
        household = hub.household
        await household.ensure_owner("owner")
        await household.add_member("minji", "child", by=None, password="bench-password")
        _, member_token = await household.create_token("minji", "tablet", by=None)
        session, _, _ = await household.sign_in("minji", "bench-password")
        assert (await hub.grant_for(member_token, Door.REST)) is not None
        household_grant = await _per_call_us(lambda: hub.grant_for(token, Door.REST), rounds)
        member_grant = await _per_call_us(lambda: hub.grant_for(member_token, Door.REST), rounds)
        session_grant = await _per_call_us(lambda: hub.grant_for(session, Door.REST), rounds)
        sign_in = await _per_call_us(lambda: household.sign_in("minji", "bench-password"), 10) / 1000
        # What is remembered never outlives a revocation.
        record = await hub.storage.token_by_hash(token_hash)
        assert record is not None and await hub.revoke_token(record.id)
        assert await hub.authenticate(token) is None
    print(f"## {name}")
    print(f"hub.authenticate (remembered, stamp unchanged): {checked:.1f} µs")
    print(f"  of which the stamp read:                      {stamp:.1f} µs")
    print(f"anchor: sha256 of the token:                    {hashing:.1f} µs")
    print(f"anchor: storage lookup every time:              {uncached:.1f} µs")
    print(f"hub.grant_for, household token (remembered):    {household_grant:.1f} µs")
    print(f"hub.grant_for, a child's member token:          {member_grant:.1f} µs")
    print(f"hub.grant_for, a child's sign-in session:       {session_grant:.1f} µs")
    print(f"sign-in with a password (argon2id verify):      {sign_in:.1f} ms")


async def main(rounds: int = 20_000, postgres_url: str | None = None) -> None:
    print(f"# token check per request ({machine()})")
    with tempfile.TemporaryDirectory() as folder:
        await _measure("SQLite", SqliteStorage(Path(folder) / "bench.sqlite3"), rounds)
    with postgres_server(postgres_url) as url:
        if url is None:
            print("## PostgreSQL: not installed, skipped")
            return
        from oneteam.hub.postgres_store import PostgresStorage

        await _measure("PostgreSQL", PostgresStorage(url), rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.postgres_url))
