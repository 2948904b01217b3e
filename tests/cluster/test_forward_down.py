"""A request carried to a home's owner that is gone fails at once with 503 and Retry-After, and
for a moment (forward.DOWN_S) later requests to that owner are refused without trying to connect:
after a kill -9 the dead process's leases live up to 3 s, and each request for its homes would
otherwise try (where a dead host does not refuse, each waiting out the connect timeout).

The owner is a real TCP port: first nothing listens there (connection refused), then a real
HTTP server does; the carrier must not touch it while the owner counts as down, and must carry
the request to it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

from oneteam.cluster.forward import DOWN_S, Forwarder, Refusal


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_OK_BODY = json.dumps({"ok": True}).encode()
OK_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(_OK_BODY)}\r\n\r\n".encode()
    + _OK_BODY
)
"""What a fake owner answers: 200 with a small JSON body."""


def health_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/homes/h1/api/health",
        "raw_path": b"/homes/h1/api/health",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"carrier")],
        "client": ("127.0.0.1", 5000),
    }


async def _carry(forwarder: Forwarder, owner: str) -> tuple[Refusal | None, list[dict[str, Any]], float]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    began = time.monotonic()
    refusal = await forwarder.http(health_scope(), receive, send, owner)
    return refusal, sent, time.monotonic() - began


async def test_a_dead_owner_is_refused_at_once_then_reached_again_once_it_answers() -> None:
    port = _free_port()
    owner = f"http://127.0.0.1:{port}"
    accepted = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK_RESPONSE)
        await writer.drain()
        writer.close()

    forwarder = Forwarder("carrier", connect_s=2.0)
    try:
        refusal, sent, took = await _carry(forwarder, owner)  # nothing listens: refused
        assert refusal is not None and refusal.status == 503 and not sent
        assert refusal.body["error"] == "home_unreachable"
        assert ("retry-after", "1") in refusal.headers
        assert took < 1.0

        server = await asyncio.start_server(answer, "127.0.0.1", port)
        async with server:
            # The owner counts as down for DOWN_S: refused again without a connection attempt.
            refusal, sent, took = await _carry(forwarder, owner)
            assert refusal is not None and refusal.status == 503 and not sent
            assert ("retry-after", "1") in refusal.headers
            assert took < 0.05 and accepted == 0

            await asyncio.sleep(DOWN_S + 0.1)
            refusal, sent, _ = await _carry(forwarder, owner)
            assert refusal is None and accepted == 1
            assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
            assert b"".join(m.get("body", b"") for m in sent[1:]) == b'{"ok": true}'
    finally:
        await forwarder.aclose()
