"""A request kept at the door while its home moves to another process, instead of refused.

When a process dies, its homes' leases live on for up to a lease time, and then a survivor opens
them. A request for such a home used to get 503 at once, and its client asked again, many times a
second (a balancer, an app, the bench's probe): ~800 refusals a second at the survivor a balancer
sent them to, whose own opening of the homes then took three times as long. Held here, a request
waits (its body read whole, its caller watched) until the home has a new owner, and is then served
once: the client sees one slower answer and no retry storm.

Holding is safe because nothing of the request reached any process: it is held only when the owner
could not be connected to, no process held the home, or no slot to carry it was free (a failover's
held requests for another survivor's homes are released together). A caller that leaves while held
is dropped, so a command its client gave up on is not carried out later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from oneteam.api.limits import BodyTooLarge
from oneteam.cluster.asgi_answers import refuse, respond
from oneteam.cluster.forward import Refusal

MOVE_WAIT_LEASES = 2.0
"""How long (in lease times) a request for a home with no reachable owner is held until the home
has one: a dead owner's lease runs out within one lease time, and a survivor takes it then."""
MOVE_POLL_S = 0.2
"""How often a held request asks where its home is (one query for all held: owner_lookups.py)."""


class HeldRequest:
    """One HTTP request's body, read whole, and a watch on its caller while it waits."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body = body
        self._receive = receive
        self._next: asyncio.Future[Message] | None = None
        self._body_given = False

    @classmethod
    async def read(cls, receive: Receive, limit_bytes: int) -> HeldRequest | None:
        """The request's body read whole (None when the caller went away first)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit_bytes:
                raise BodyTooLarge(size)  # what the home's app would refuse anyway (413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return cls(b"".join(chunks), receive)

    async def pause(self, seconds: float) -> bool:
        """Wait `seconds`; False as soon as the caller goes away."""
        if self._next is None:
            self._next = asyncio.ensure_future(self._receive())
        done, _ = await asyncio.wait({self._next}, timeout=seconds)
        if not done:
            return True
        message = self._next.result()
        if message["type"] == "http.disconnect":
            return False
        self._next = None  # nothing else comes after a whole body; keep watching
        return True

    async def receive(self) -> Message:
        """The request as the app or the forwarder reads it: the body, then what the caller sends."""
        if not self._body_given:
            self._body_given = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        if self._next is not None:
            waiting, self._next = self._next, None
            return await waiting
        return await self._receive()

    def close(self) -> None:
        """Stop watching (the request was answered)."""
        if self._next is not None:
            self._next.cancel()


async def serve_holding(
    route: Callable[[Receive], Awaitable[Refusal | None]],
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    wait_s: float,
    limit_bytes: int,
) -> None:
    """`route` the request (None: it was answered); while its refusal says it may be held, hold
    the request and route it again every MOVE_POLL_S, for at most `wait_s`; then answer the refusal."""
    deadline = time.monotonic() + wait_s
    held: HeldRequest | None = None
    try:
        while True:
            refusal = await route(held.receive if held else receive)
            if refusal is None:
                return
            if not refusal.may_hold or scope["type"] != "http" or time.monotonic() >= deadline:
                break
            if held is None:
                try:
                    held = await HeldRequest.read(receive, limit_bytes)
                except BodyTooLarge:
                    await respond(send, 413, _too_large(limit_bytes))
                    return
                if held is None:
                    return  # the caller went away
            if not await held.pause(min(_to_next_beat(), max(0.0, deadline - time.monotonic()))):
                return  # the caller gave up while held: its command is not carried out later
        answer_receive = held.receive if held else receive
        await refuse(scope, answer_receive, send, refusal.status, refusal.body, refusal.headers)
    finally:
        if held is not None:
            held.close()


def _to_next_beat() -> float:
    """Seconds to the loop clock's next multiple of MOVE_POLL_S: every held request wakes on the
    same beat, so their look-ups go in one query (owner_lookups.py), five a second however many are
    held. Each on its own moment, ~370 held through a failover would keep the lease connection that
    placement also uses asking, query after query."""
    now = asyncio.get_running_loop().time()
    return MOVE_POLL_S - now % MOVE_POLL_S


def _too_large(limit_bytes: int) -> dict[str, Any]:
    return {"error": "body_too_large", "message": f"the body is over {limit_bytes} bytes"}
