"""Wrong passwords at /api/session are slowed, then refused with 429 + Retry-After and a message in
the reader's language, per member name and per address; once the window has passed a right
password works again. A real hub behind uvicorn; the window is shortened to seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from oneteam.api.signin_limit import SignInLimits
from tests.api.household_home import PASSWORD, served_household

WINDOW_S = 4.0
DELAY_S = 0.3


@dataclass
class Running:
    url: str
    limits: SignInLimits


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    limits = SignInLimits(
        window_s=WINDOW_S, free=2, name_limit=4, address_limit=6, delay_s=DELAY_S, max_delay_s=1.0
    )

    def limited(app: FastAPI) -> None:
        app.state.signin_limits = limits

    async with served_household(tmp_path, [("dad", "adult", None)], configure=limited) as served:
        yield Running(served.url, limits)


async def _try(
    client: httpx.AsyncClient, name: str, password: str, language: str = "ko"
) -> tuple[int, float, httpx.Response]:
    started = time.perf_counter()
    answer = await client.post(
        "/api/session", json={"name": name, "password": password}, headers={"Accept-Language": language}
    )
    return answer.status_code, time.perf_counter() - started, answer


async def test_wrong_passwords_for_one_name_are_slowed_then_refused_until_the_window_passes(
    running: Running,
) -> None:
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        timings = []
        for _ in range(4):
            status, took, _ = await _try(client, "dad", "not the password")
            assert status == 401
            timings.append(took)
        # The first two cost only argon2; the third waits DELAY_S, the fourth twice that.
        assert timings[2] >= DELAY_S and timings[3] >= 2 * DELAY_S, timings
        status, _, answer = await _try(client, "dad", PASSWORD)  # even the right one, now
        assert status == 429
        retry = int(answer.headers["Retry-After"])
        assert 1 <= retry <= WINDOW_S
        error = answer.json()["error"]
        assert error["key"] == "error.session.too_many" and "로그인 시도가 너무 많아요" in error["message"]
        status, _, answer = await _try(client, "dad", PASSWORD, "en")
        assert status == 429 and "Too many sign-in attempts" in answer.json()["error"]["message"]
        # Another member at the same address is not locked out by dad's count.
        status, _, answer = await _try(client, "mom", PASSWORD)
        assert status == 200, answer.text
        await asyncio.sleep(retry + 0.2)
        status, _, answer = await _try(client, "dad", PASSWORD)
        assert status == 200, answer.text
        assert answer.json()["member"]["name"] == "dad"


class StoppedClock:
    """The limits' clock, moved only by the test: the window is counted in its seconds, not in how
    long six argon2 checks take on a loaded machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_address_trying_many_names_is_refused(running: Running) -> None:
    clock = StoppedClock()
    running.limits.clock = clock
    running.limits.delay_s = running.limits.max_delay_s = 0.01
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        for index in range(6):  # six names, one guess each: no name reaches its own limit
            status, _, _ = await _try(client, f"guess{index}", "not the password")
            assert status == 401
            clock.now += 0.5  # the six fall at 1000.0 .. 1002.5, all inside the 4 s window
        status, _, answer = await _try(client, "mom", PASSWORD)
        # The oldest failure (1000.0) leaves the window at 1004.0: 1.0 s from now (1003.0).
        assert status == 429 and answer.headers["Retry-After"] == "1"
        # A right sign-in does not clear the address's count; only the window passing does.
        clock.now = 1000.0 + WINDOW_S - 0.01
        status, _, answer = await _try(client, "mom", PASSWORD)
        assert status == 429, answer.text
        clock.now = 1000.0 + WINDOW_S
        status, _, answer = await _try(client, "mom", PASSWORD)
        assert status == 200, answer.text


async def test_right_passwords_are_never_counted(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        for _ in range(8):  # more than either limit
            status, took, answer = await _try(client, "mom", PASSWORD)
            assert status == 200, answer.text
            assert took < DELAY_S + 1.0
