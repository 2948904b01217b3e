"""Token checks per request: what immediate revocation costs.

Every REST request and every MCP call checks its bearer token. A confirmed token is remembered
only while SQLite's `PRAGMA data_version` is unchanged (it changes when another process, such as
`oneteam token revoke`, commits to the file), so each check costs one pragma read plus a dict
lookup. Printed beside the anchors measured in the same run: hashing the token (which every check
does anyway) and asking storage outright (what a check costs with no remembering at all).

Run: `.venv/bin/python bench/bench_auth.py`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.tokens import hash_token

DEMO_HOME = Path(__file__).resolve().parents[1] / "oneteam" / "homes" / "demo.yaml"


async def _per_call_us(work: Callable[[], Any], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        result = work()
        if asyncio.iscoroutine(result):
            await result
    return (time.perf_counter() - started) / rounds * 1e6


async def main(rounds: int = 20_000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        hub = Hub(load_home(DEMO_HOME), SqliteStorage(Path(folder) / "bench.sqlite3"))
        async with hub:
            token = await hub.create_token("bench")
            token_hash = hash_token(token)
            assert await hub.authenticate(token) is not None
            checked = await _per_call_us(lambda: hub.authenticate(token), rounds)
            stamp = await _per_call_us(hub.storage.token_stamp, rounds)
            hashing = await _per_call_us(lambda: hash_token(token), rounds)
            uncached = await _per_call_us(lambda: hub.storage.token_by_hash(token_hash), rounds // 10)
    print(f"# token check per request ({machine()})")
    print(f"hub.authenticate (remembered, stamp unchanged): {checked:.1f} µs")
    print(f"  of which PRAGMA data_version:                 {stamp:.1f} µs")
    print(f"anchor: sha256 of the token:                    {hashing:.1f} µs")
    print(f"anchor: storage lookup every time (thread hop): {uncached:.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
