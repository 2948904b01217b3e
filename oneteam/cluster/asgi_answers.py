"""Plain ASGI answers of a cluster process's outer app (cluster/host.py): a JSON answer, a refusal
that also reaches a WebSocket upgrade, the lifespan handshake, and the split of a home's path."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.types import Receive, Scope, Send


def split_home_path(path: str) -> tuple[str, str, str]:
    """`/homes/X/rest` → ('/homes/X', 'X', '/rest'); not a home path → ('', '', '')."""
    if not path.startswith("/homes/"):
        return "", "", ""
    home_id, slash, rest = path[len("/homes/") :].partition("/")
    if not home_id:
        return "", "", ""
    return f"/homes/{home_id}", home_id, slash + rest


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(
    send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[str, str]] = ()
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.encode(), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


async def refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """An HTTP answer, also to a WebSocket upgrade where the server allows one (uvicorn's
    websocket.http.response extension); otherwise the socket is closed (1013: try again later)."""
    if scope["type"] == "http":
        await respond(send, status, body, headers)
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        data = json.dumps(body, ensure_ascii=False).encode()
        raw = [(b"content-type", b"application/json")] + [
            (k.encode(), v.encode("latin-1")) for k, v in headers
        ]
        await send({"type": "websocket.http.response.start", "status": status, "headers": raw})
        await send({"type": "websocket.http.response.body", "body": data})
        return
    await send({"type": "websocket.close", "code": 1013, "reason": body.get("error", "")})
