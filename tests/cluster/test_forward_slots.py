"""A process carries at most forward.CARRIED_AT_ONCE requests to owners at once; the others wait
for a free slot (then are carried, none lost), or, after the connect timeout, are refused with 503
and Retry-After without counting the owner as down. (httpx's pool, given hundreds of requests at
once, spent a survivor's CPU scanning them against its connections: 8 s of no answers after a kill.)

The owner is a real HTTP server on a real TCP port that holds every request until told to answer.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from oneteam.cluster.forward import CARRIED_AT_ONCE, Forwarder, Refusal
from tests.cluster.test_forward_down import OK_RESPONSE, health_scope

ASKED = CARRIED_AT_ONCE * 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HoldingOwner:
    """Answers 200 to each request once `release` is set; counts those it holds at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.holding = 0
        self.most = 0
        self.answered = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: the carrier reuses its connections
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            self.holding += 1
            self.most = max(self.most, self.holding)
            await self.release.wait()
            self.holding -= 1
            writer.write(OK_RESPONSE)
            await writer.drain()
            self.answered += 1
        writer.close()


async def _carry(forwarder: Forwarder, owner: str) -> tuple[Refusal | None, int]:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    return await forwarder.http(health_scope(), receive, send, owner), status


async def test_requests_beyond_the_slots_wait_for_one_and_are_all_carried() -> None:
    port = _free_port()
    holding = HoldingOwner()
    server = await asyncio.start_server(holding, "127.0.0.1", port, backlog=1024)
    forwarder = Forwarder("carrier", connect_s=5.0)
    try:
        carried = [asyncio.create_task(_carry(forwarder, f"http://127.0.0.1:{port}")) for _ in range(ASKED)]
        for _ in range(200):
            if holding.holding >= CARRIED_AT_ONCE:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # time for more to arrive, were they let through
        assert holding.holding == CARRIED_AT_ONCE, holding.holding
        holding.release.set()
        answers = await asyncio.wait_for(asyncio.gather(*carried), 30)
        assert answers == [(None, 200)] * ASKED
        assert holding.most == CARRIED_AT_ONCE and holding.answered == ASKED
    finally:
        await forwarder.aclose()
        server.close()


async def test_a_request_that_found_no_slot_in_time_is_refused_and_the_owner_stays_up() -> None:
    port = _free_port()
    holding = HoldingOwner()
    server = await asyncio.start_server(holding, "127.0.0.1", port, backlog=1024)
    owner = f"http://127.0.0.1:{port}"
    # The service's own connect limit: 128 connections opened at once in this one loaded process
    # (a CI run's pytest, ~300 tests in) did not all connect within 0.5 s, and those were refused.
    forwarder = Forwarder("carrier", connect_s=2.0)
    try:
        held = [asyncio.create_task(_carry(forwarder, owner)) for _ in range(CARRIED_AT_ONCE)]
        for _ in range(500):
            if holding.holding >= CARRIED_AT_ONCE:
                break
            await asyncio.sleep(0.02)
        assert holding.holding == CARRIED_AT_ONCE, holding.holding
        refusal, status = await _carry(forwarder, owner)
        assert status == 0 and refusal is not None and refusal.status == 503, refusal
        assert refusal.body["error"] == "home_unreachable"
        assert ("retry-after", "1") in refusal.headers
        holding.release.set()
        assert await asyncio.wait_for(asyncio.gather(*held), 10) == [(None, 200)] * CARRIED_AT_ONCE
        assert await _carry(forwarder, owner) == (None, 200)  # not counted as down: carried at once
    finally:
        await forwarder.aclose()
        server.close()
