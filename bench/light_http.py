"""A light HTTP client for the open-loop REST generator of bench_cluster.py: aiohttp behind the
few calls `Commands` makes of httpx.

At 100 commands/s httpx spent 4.4-6.2 ms of the generator's CPU per command here (more than a lone
hub spent answering it), and the round trip it measured against a lone hub was the generator's:
p50 2.0-2.2 s. aiohttp spends 0.8-0.9 ms per command, and the same hub at the same machine load
answers in p50 6-8 ms (BENCHMARKS.md, "REST at many homes"). Only `request(method, url,
headers=, json=)` is offered, answering status_code, headers and json(); a failure to reach or
hear the server raises httpx.TransportError, so callers keep their one `except httpx.HTTPError`.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Mapping[str, str]
    """Case-insensitive, as httpx's."""
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class LightClient:
    """One aiohttp session with at most `in_flight` connections, for an `async with` block."""

    def __init__(self, in_flight: int, *, timeout_s: float = 30.0) -> None:
        self.in_flight = in_flight
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> LightClient:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.in_flight),
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None
    ) -> Answer:
        assert self._session is not None, "use LightClient in an async with block"
        try:
            async with self._session.request(
                method, url, headers=headers, json=json, allow_redirects=False
            ) as answer:
                return Answer(answer.status, answer.headers, await answer.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise httpx.TransportError(f"{type(exc).__name__}: {exc}") from exc
