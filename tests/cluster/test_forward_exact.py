"""What the carrier sends an owner is the caller's request, and what it sends back is the owner's
answer, byte for byte where it matters (cluster/forward.py, on aiohttp's client).

The owner is a real TCP server that records the request it gets and answers a gzip-encoded body
with a cookie. The carrier must keep the path exactly as the caller wrote it (an encoded slash is
not decoded), add no header of its own beyond the hop and peer headers (no User-Agent, no
Accept-Encoding), carry a body as it comes, hand back the encoded body undecoded with the owner's
headers, and keep no cookie for the next caller.
"""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

from oneteam.cluster.forward import HOP_HEADER, Forwarder
from oneteam.cluster.peers import PEER_KEY_HEADER
from tests.conftest import free_port

_BODY = gzip.compress(b'{"ok": true}' * 20)
_ANSWER = (
    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
    b"set-cookie: session=abc; Path=/\r\nx-owner: n2\r\n"
    + f"content-length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


class RecordingOwner:
    """Answers every request with `_ANSWER` and keeps what it got (head lines, body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[list[bytes], bytes]] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            lines = head.rstrip(b"\r\n").split(b"\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in lines
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            self.requests.append((lines, await reader.readexactly(length)))
            writer.write(_ANSWER)
            await writer.drain()
        writer.close()


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/homes/h1/api/devices/a/b/commands",
        "raw_path": b"/homes/h1/api/devices/a%2Fb/commands",
        "query_string": b"dry=1&note=%20x",
        "root_path": "",
        "headers": headers,
        "client": ("10.0.0.7", 5000),
    }


async def _carry(
    forwarder: Forwarder, owner: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> list[Any]:
    sent: list[Any] = []
    parts = [body[:5], body[5:]]

    async def receive() -> dict[str, Any]:
        chunk = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    assert await forwarder.http(_scope(headers), receive, send, owner) is None
    return sent


async def test_the_owner_gets_the_callers_request_and_the_caller_gets_the_owners_answer() -> None:
    port = free_port()
    owner = RecordingOwner()
    server = await asyncio.start_server(owner, "127.0.0.1", port)
    forwarder = Forwarder("carrier", peer_key="k" * 32)
    body = b'{"command": "turn_on"}'
    headers = [
        (b"host", b"front.example:8700"),
        (b"authorization", b"Bearer t1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-extra", b"one"),
        (b"x-extra", b"two"),
        (b"connection", b"keep-alive"),  # hop-by-hop: not carried
        (PEER_KEY_HEADER, b"forged"),  # an outside caller's: dropped, the carrier's own sent
    ]
    try:
        sent = await _carry(forwarder, f"http://127.0.0.1:{port}", headers, body)
        ((lines, got),) = owner.requests
        assert lines[0] == b"POST /homes/h1/api/devices/a%2Fb/commands?dry=1&note=%20x HTTP/1.1"
        received = [tuple(line.split(b": ", 1)) for line in lines[1:]]
        assert got == body
        # The caller's headers in its order, less the hop-by-hop one and the forged key, then the
        # carrier's: nothing of the client library's own (no User-Agent, Accept-Encoding, Cookie).
        assert received == [
            *headers[:6],
            (HOP_HEADER, b"carrier"),
            (b"x-forwarded-for", b"10.0.0.7"),
            (PEER_KEY_HEADER, b"k" * 32),
        ]

        start = sent[0]
        assert start["status"] == 201
        answer_headers = dict(start["headers"])
        assert answer_headers[b"content-encoding"] == b"gzip" and answer_headers[b"x-owner"] == b"n2"
        assert b"".join(m.get("body", b"") for m in sent[1:]) == _BODY  # not decoded on the way

        # The owner's Set-Cookie went back to that caller only: the next caller sends none.
        await _carry(forwarder, f"http://127.0.0.1:{port}", headers[:2], b"")
        lines, _ = owner.requests[1]
        assert not [line for line in lines if line.lower().startswith(b"cookie:")], lines
    finally:
        await forwarder.aclose()
        server.close()
