"""The sign-in slowing counts the socket's address whatever `X-Forwarded-For` a caller sends (uvicorn
alone would believe it from 127.0.0.1), unless the operator named the proxy (`--trusted-proxy`):
then each caller the proxy reports is counted apart. A real hub behind uvicorn with the product's
server settings (api/proxies.py); limits shortened, the window's clock stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from oneteam.api.signin_limit import SignInLimits
from tests.api.household_home import PASSWORD, served_household

ADDRESS_LIMIT = 6


class StoppedClock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def hub(folder: Path, trusted_proxies: tuple[str, ...]) -> AsyncIterator[str]:
    limits = SignInLimits(
        window_s=60, free=2, name_limit=4, address_limit=ADDRESS_LIMIT, delay_s=0.01, max_delay_s=0.01
    )
    limits.clock = StoppedClock()

    def limited(app: FastAPI) -> None:
        app.state.signin_limits = limits

    async with served_household(folder, [], configure=limited, trusted_proxies=trusted_proxies) as served:
        yield served.url


async def _sign_in(client: httpx.AsyncClient, name: str, password: str, claimed: str) -> int:
    answer = await client.post(
        "/api/session", json={"name": name, "password": password}, headers={"X-Forwarded-For": claimed}
    )
    return answer.status_code


async def test_a_claimed_address_changes_nothing_by_default(tmp_path: Path) -> None:
    async with hub(tmp_path, ()) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        # Each guess claims another address and another name: all are counted on 127.0.0.1.
        for n in range(ADDRESS_LIMIT):
            assert await _sign_in(client, f"guess{n}", "wrong", f"203.0.113.{n + 1}") == 401
        assert await _sign_in(client, "mom", PASSWORD, "203.0.113.99") == 429


async def test_a_named_proxy_reports_each_caller_apart(tmp_path: Path) -> None:
    async with hub(tmp_path, ("127.0.0.1",)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        for n in range(ADDRESS_LIMIT):
            assert await _sign_in(client, f"guess{n}", "wrong", f"203.0.113.{n + 1}") == 401
        # Six callers failed once each: none reached the address limit, so a seventh signs in ...
        assert await _sign_in(client, "mom", PASSWORD, "203.0.113.99") == 200
        # ... while one caller failing six times through the proxy is refused, the others are not.
        for n in range(ADDRESS_LIMIT):
            assert await _sign_in(client, f"again{n}", "wrong", "198.51.100.7") == 401
        assert await _sign_in(client, "mom", PASSWORD, "198.51.100.7") == 429
        assert await _sign_in(client, "mom", PASSWORD, "198.51.100.8") == 200
