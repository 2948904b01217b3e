"""Carrying a request for a home served by another process to that process, and its answer back.

A redirect would lose the caller's credentials: HTTP clients and browsers drop `Authorization` on
a redirect to another origin, and every process of the cluster is one. So a process that does not
serve a home forwards the request to the owner's address with the caller's headers (HTTP with
streamed bodies both ways, and WebSocket frames both ways), and the caller never learns that
another process answered.

A forwarded request carries `x-oneteam-forwarded-by: <node>`; a process receiving one for a home
it does not serve answers 503 instead of forwarding again, so two processes that disagree about an
owner for a moment cannot pass a request back and forth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import websockets
from multidict import CIMultiDict
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from yarl import URL

from oneteam.cluster.peers import FORWARDED_FOR, PEER_KEY_HEADER, carried_headers

_LOGGER = logging.getLogger(__name__)

HOP_HEADER = b"x-oneteam-forwarded-by"
"""Set on every forwarded request: its receiver never forwards it again."""

_NOT_FORWARDED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        HOP_HEADER,
        PEER_KEY_HEADER,  # an outside caller's is dropped; the carrier adds its own (peers.py)
        FORWARDED_FOR,  # sent again with the caller's address appended (peers.py)
    }
)
"""Hop-by-hop headers (RFC 9110 §7.6.1): they concern one connection, not the request."""
_NOT_FORWARDED_WS = _NOT_FORWARDED | {
    b"host",
    b"origin",
    b"sec-websocket-key",
    b"sec-websocket-version",
    b"sec-websocket-extensions",
    b"sec-websocket-protocol",
    b"content-length",
}
"""The WebSocket client library writes these itself (the origin is checked here, see `_origin_ok`)."""
WS_MAX_MESSAGE = 16 * 1024 * 1024
RETRY_AFTER_S = 1
DOWN_S = 1.0
"""After an owner could not be reached, requests to it are refused at once for this long: a dead
peer's leases live up to 3 s, and every request for its homes would otherwise try to connect (on
a network where a dead host does not refuse, each one waiting out the connect timeout)."""
KEEPALIVE_S = 2.0
"""How long an idle connection to an owner is kept: well under uvicorn's 5 s keep-alive, so a
request is never sent on a connection the owner is closing that moment (after a failover's burst, 3
carried commands met a closed connection, 504 "may have been done", when they were kept 5 s)."""
CARRIED_AT_ONCE = 128
"""Requests carried at once (each on a connection of its own); the next wait here for a free one. A
carried request may wait at its owner for its home's open (host.OPENING_WAIT_S): with 32 in all,
~185 requests held through a failover (held_requests.py) and released together waited over 2 s
for one, and 118 of them were refused.

The carrying client is aiohttp's. httpx's pool scanned every queued request against every
connection and counted every connection once per idle one at each request (with 200 connections and
hundreds queued a survivor spent 83 % of its CPU there); spread over four 32-connection clients it
still spent ~5 ms of CPU per request (bench/light_http.py measured 4.4–6.2 ms against aiohttp's
0.8–0.9 ms): a failover's 128 carried commands took 2.5 s each for 1 s at their owner."""


@dataclass(frozen=True)
class Refusal:
    """What to answer instead when a request could not be carried to its home's process."""

    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = field(default=())
    may_hold: bool = False
    """Nothing of the request reached any process, so it may be held and routed again
    (held_requests.py): its home may be moving (its owner could not be connected to, or no process
    holds it), or this process's slots to carry it were all taken."""


def _unreachable(why: str) -> Refusal:
    return Refusal(
        503,
        {"error": "home_unreachable", "message": f"the home's process did not answer ({why}); try again"},
        (("retry-after", str(RETRY_AFTER_S)),),
        may_hold=True,
    )


class Forwarder:
    """One process's way to the other processes: one pooled HTTP client, a WebSocket per socket."""

    _session: aiohttp.ClientSession | None

    def __init__(
        self, node_id: str, *, timeout_s: float = 30.0, connect_s: float = 2.0, peer_key: str | None = None
    ) -> None:
        self.node_id = node_id
        self.peer_key = peer_key
        """The cluster's key (peers.py): with it, the owner believes the caller's address we add."""
        self.timeout_s = timeout_s
        self.connect_s = connect_s
        self._session = None
        self._down: dict[str, float] = {}
        """Owner address → until when (monotonic) it counts as unreachable."""
        self._slots = asyncio.Semaphore(CARRIED_AT_ONCE)

    def _refused_at_once(self, owner: str) -> Refusal | None:
        until = self._down.get(owner)
        if until is None:
            return None
        if time.monotonic() < until:
            return _unreachable("it did not answer a moment ago")
        del self._down[owner]
        return None

    def _mark_down(self, owner: str) -> None:
        self._down[owner] = time.monotonic() + DOWN_S

    def _client(self) -> aiohttp.ClientSession:
        """The carrying client, made on first use (it must be made on the running loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=CARRIED_AT_ONCE, keepalive_timeout=KEEPALIVE_S, use_dns_cache=True
                ),
                timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_s, sock_read=self.timeout_s),
                # A client carries many callers' requests: a Set-Cookie kept here would sign the
                # next caller in as the last one. Cookies pass through as headers, never stored.
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # the answer goes back as the owner encoded it
                # Only the caller's headers, none of the client's own (User-Agent, Accept-Encoding…).
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                trust_env=False,
            )
        return self._session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def http(self, scope: Scope, receive: Receive, send: Send, owner: str) -> Refusal | None:
        """Carry an HTTP request to `owner` (its base URL) and stream the answer back; a Refusal
        when nothing was answered yet: 503 when the owner could not be reached (nothing reached
        it), 504 when it took the request but did not answer in time (it may have been done)."""
        refused = self._refused_at_once(owner)
        if refused is not None:
            return refused
        try:
            async with asyncio.timeout(self.connect_s):
                await self._slots.acquire()
        except TimeoutError:
            # Says nothing of the owner; nothing reached it, so the request may be held for a slot
            # (a failover's held requests for another survivor's homes are released together).
            return _unreachable("this process is carrying too many requests")
        try:
            return await self._carry(scope, receive, send, owner)
        finally:
            self._slots.release()

    async def _carry(self, scope: Scope, receive: Receive, send: Send, owner: str) -> Refusal | None:
        """`http` with a free connection's slot held."""
        refused = self._refused_at_once(owner)  # marked down while this one waited for a slot
        if refused is not None:
            return refused
        headers = CIMultiDict(
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in [
                *((k, v) for k, v in scope["headers"] if k.lower() not in _NOT_FORWARDED),
                (HOP_HEADER, self.node_id.encode()),
                *carried_headers(scope, self.peer_key),
            ]
        )
        has_body = any(
            k.lower() == b"content-length" and v.strip() != b"0" for k, v in scope["headers"]
        ) or any(k.lower() == b"transfer-encoding" for k, v in scope["headers"])
        try:
            response = await self._client().request(
                scope["method"],
                URL(_target(scope, owner), encoded=True),  # the path exactly as the caller wrote it
                headers=headers,
                data=_request_body(receive) if has_body else None,
                allow_redirects=False,
                compress=None,
            )
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Nothing reached the owner: it is not listening (dead) or did not take the connection.
            _LOGGER.warning("cannot reach %s for %s: %r", owner, scope["path"], exc)
            self._mark_down(owner)
            return _unreachable(exc.__class__.__name__)
        except (aiohttp.ClientError, TimeoutError, _CallerGone) as exc:
            _LOGGER.warning("%s did not answer %s %s: %r", owner, scope["method"], scope["path"], exc)
            return Refusal(
                504,
                {
                    "error": "home_timeout",
                    "message": "the home's process took the request but did not answer in time; "
                    "it may have been carried out",
                },
            )
        try:
            answer = [(k, v) for k, v in response.raw_headers if k.lower() not in _NOT_FORWARDED]
            await send({"type": "http.response.start", "status": response.status, "headers": answer})
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The answer has begun: the caller sees a cut-off body (the connection closes).
            _LOGGER.warning("answer from %s cut off (%s): %r", owner, scope["path"], exc)
            raise
        finally:
            response.release()
        return None

    async def websocket(self, scope: Scope, receive: Receive, send: Send, owner: str) -> Refusal | None:
        """Open the same socket at `owner`, accept the caller's once the owner accepted it, and
        carry frames both ways until either side closes (a Refusal when the owner refused it or
        could not be reached: the caller is answered as if the home were here)."""
        connect = await receive()
        if connect["type"] != "websocket.connect":
            return None
        refused = self._refused_at_once(owner)
        if refused is not None:
            return refused
        if not _origin_ok(scope):
            # The owner checks a page's Origin against the Host it was asked at: that is this one.
            return Refusal(403, {"error": "forbidden", "message": "origin not allowed"})
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.lower() not in _NOT_FORWARDED_WS
        ]
        headers.append((HOP_HEADER.decode(), self.node_id))
        headers += [(k.decode(), v.decode("latin-1")) for k, v in carried_headers(scope, self.peer_key)]
        uri = "ws" + _target(scope, owner).removeprefix("http")
        try:
            upstream = await websockets.connect(
                uri,
                additional_headers=headers,
                subprotocols=[websockets.Subprotocol(p) for p in scope.get("subprotocols", ())] or None,
                open_timeout=self.connect_s + 3.0,
                max_size=WS_MAX_MESSAGE,
                compression=None,
                proxy=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            return Refusal(status, {"error": "refused", "message": f"the home refused the socket ({status})"})
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            _LOGGER.warning("cannot open a socket at %s: %r", owner, exc)
            if isinstance(exc, OSError | TimeoutError):
                self._mark_down(owner)
            return _unreachable(exc.__class__.__name__)
        async with upstream:
            await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
            await _relay(upstream, receive, send)
        return None


async def _relay(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    """Frames both ways; when one side closes, the other is closed with its code."""

    async def from_caller() -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                code = int(message.get("code") or 1000)
                await upstream.close(code if 1000 <= code < 5000 and code not in (1005, 1006) else 1000)
                return
            if message["type"] == "websocket.receive":
                if message.get("text") is not None:
                    await upstream.send(message["text"])
                elif message.get("bytes") is not None:
                    await upstream.send(message["bytes"])

    async def from_owner() -> None:
        try:
            async for frame in upstream:
                key = "text" if isinstance(frame, str) else "bytes"
                await send({"type": "websocket.send", key: frame})
        except ConnectionClosed:
            pass
        received = upstream.protocol.close_rcvd
        # No close frame: the owner's process is gone; 1012 (service restart) says "come back".
        code, reason = (received.code, received.reason) if received is not None else (1012, "home moving")
        with contextlib.suppress(Exception):
            await send({"type": "websocket.close", "code": code, "reason": reason})

    tasks = [
        asyncio.create_task(from_caller(), name="forward-ws-caller"),
        asyncio.create_task(from_owner(), name="forward-ws-owner"),
    ]
    caller, owner = tasks
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if caller.done() and not caller.cancelled() and isinstance(caller.exception(), ConnectionClosed):
            # The owner closed while a caller's frame was on its way: its close code still goes back.
            await asyncio.wait([owner], timeout=2.0)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, ConnectionClosed):
            _LOGGER.warning("forwarded socket ended with %r", result)


def _target(scope: Scope, owner: str) -> str:
    """The same path and query at `owner` (the path exactly as the caller wrote it)."""
    raw: bytes | None = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope.get("root_path", "") + scope["path"])
    query: bytes = scope.get("query_string", b"")
    return owner.rstrip("/") + path + ("?" + query.decode("latin-1") if query else "")


class _CallerGone(Exception):
    """The caller left while its body was being carried."""


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    """The caller's body as it arrives (never held whole here)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _CallerGone("the caller went away")
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


def _origin_ok(scope: Scope) -> bool:
    """A program (no Origin) or a page of the address it asked at: what api/auth.py
    `websocket_origin_ok` lets through without configured origins."""
    headers = {k.lower(): v for k, v in scope["headers"]}
    origin = headers.get(b"origin")
    if origin is None:
        return True
    parts = urlsplit(origin.decode("latin-1").strip())
    host = headers.get(b"host", b"").decode("latin-1")
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc.lower() == host.lower()
