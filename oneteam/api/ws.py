"""The WebSocket: streams every event as JSON and accepts commands.

Client → hub: `{"type": "command", "id": 1, "device": "light_living", "command": "turn_on"}`.
Hub → client: `{"type": "hello", "states": {...}}` once, then `{"type": "event", "event": {...}}`
for every event and `{"type": "result", "id": 1, "ok": true, "state": {...}}` (or `"error"`) for
each command. A client that reads too slowly loses events (counted in `dropped`), never stalls the hub.

With `?batch=1` the hub sends whatever is queued as one `{"type": "events", "events": [...]}`
message (an event after a quiet moment at once, then at most one message per BATCH_INTERVAL_S
while events keep coming), which is how a busy home (thousands of events a second) reaches many
subscribers: each event is encoded to JSON once and each message once per audience, its text
shared by every subscriber shown the same devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from oneteam.api.auth import sees, sees_event, websocket_grant, websocket_origin_ok, websocket_token
from oneteam.api.errors import error_body
from oneteam.api.schemas import WsCommand, event_json, state_json
from oneteam.hub import EventBus, Hub, Subscription
from oneteam.hub.bus import LOG_CAPACITY
from oneteam.i18n import language_from_header, render
from oneteam.model import Door, Event, Grant, OneteamError

_LOGGER = logging.getLogger(__name__)
_MAX_MESSAGE_BYTES = 64 * 1024
_MAX_BATCH = 1000
_TEXT_CACHE_SIZE = 50_000
_MESSAGE_CACHE_SIZE = 64
BATCH_INTERVAL_S = 0.025
"""While events keep coming, a batch subscriber is sent one message per this interval at most
(an event after a quiet moment goes at once): at 10,000 events/s, 250 events a message instead of
a message per wake-up, so far fewer sends, system calls and frames for the hub and the clients."""
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
"""One encoder for every event: json.dumps with options builds a new encoder on each call."""


class _Fanout:
    """One bus's encoded events and batch messages, shared by every batch subscriber of it.

    Each event is encoded to JSON once (by bus sequence number), and each message once per range
    of sequence numbers and audience: subscribers that keep up wake together on the same tick and
    take the same range, so a hundred of them cost one encoding and one join per batch, and each
    only its own send of the same text."""

    def __init__(self) -> None:
        self._texts: OrderedDict[int, str] = OrderedDict()
        self._messages: OrderedDict[tuple[int, int, _Audience, int], str] = OrderedDict()
        self._tick_waiters: list[asyncio.Future[None]] = []
        self._tick_loop: asyncio.AbstractEventLoop | None = None
        """The loop whose timer will end the waits (None when no timer is pending)."""

    def message(
        self, bus: EventBus, sequences: range, audience: _Audience, shown: _Shown, dropped: int
    ) -> str:
        """The `events` message of a range for one audience ("" when it is shown none of them)."""
        key = (sequences.start, sequences.stop, audience, dropped)
        message = self._messages.get(key)
        if message is None:
            texts = self._texts
            parts: list[str] = []
            for sequence, event in zip(sequences, bus.events_in(sequences), strict=True):
                if audience is not None and not shown(event):
                    continue
                text = texts.get(sequence)
                if text is None:
                    text = texts[sequence] = _encode(event_json(event))
                parts.append(text)
            while len(texts) > _TEXT_CACHE_SIZE:
                texts.popitem(last=False)
            body = ",".join(parts)
            message = f'{{"type":"events","dropped":{dropped},"events":[{body}]}}' if parts else ""
            self._messages[key] = message
            if len(self._messages) > _MESSAGE_CACHE_SIZE:
                self._messages.popitem(last=False)
        return message

    async def next_tick(self) -> None:
        """Wait for the next multiple of BATCH_INTERVAL_S on the loop's clock: one timer for every
        subscriber of the bus, so that they wake in the same turn of the loop and take the same
        range (one message built for all of them). Each waits on a future of its own, so that a
        closing socket cancels only its own wait."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self._tick_loop is not loop:  # no timer pending here (waits of a closed loop are dropped)
            self._tick_waiters, self._tick_loop = [], loop
            loop.call_at((loop.time() // BATCH_INTERVAL_S + 1) * BATCH_INTERVAL_S, self._tick)
        self._tick_waiters.append(waiter)
        await waiter

    def _tick(self) -> None:
        waiters, self._tick_waiters, self._tick_loop = self._tick_waiters, [], None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


_Audience = tuple[frozenset[str] | None, frozenset[str] | None] | None
"""Who a batch is built for: None for a socket shown everything, else its Grant's devices and
rooms (members with the same limits share the message)."""

_Shown = Callable[[Event], bool]
"""Which events a member's socket is sent (those of the devices their Grant covers)."""

_FANOUTS: WeakKeyDictionary[EventBus, _Fanout] = WeakKeyDictionary()


def _fanout(bus: EventBus) -> _Fanout:
    fanout = _FANOUTS.get(bus)
    if fanout is None:
        fanout = _FANOUTS[bus] = _Fanout()
    return fanout


SERVER_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}
"""uvicorn settings for the socket. No per-message deflate: it would compress the same batch once
per subscriber (a hundred subscribers, a hundred deflates of each batch) for bytes that only cross
a home network."""

router = APIRouter(tags=["websocket"])


@router.websocket("/api/ws")
async def events_socket(websocket: WebSocket) -> None:
    """Live events and commands over one socket."""
    if not websocket_origin_ok(websocket):
        await websocket.close(code=1008, reason="origin not allowed")  # before accept: HTTP 403
        return
    grant = await websocket_grant(websocket, Door.WS)
    token = websocket_token(websocket)
    if grant is None or token is None:
        await websocket.close(code=4401, reason="unauthorized")
        return
    hub: Hub = websocket.app.state.hub
    language = websocket.query_params.get("lang") or language_from_header(
        websocket.headers.get("accept-language")
    )
    await websocket.accept()
    batch = websocket.query_params.get("batch") in {"1", "true"}
    # The log is shared, so a wider window costs a batch subscriber no memory: it may fall up to
    # LOG_CAPACITY events (10 s at 10,000/s) behind a busy moment before it loses any.
    window = LOG_CAPACITY if batch else 10_000
    async with hub.subscribe(f"ws:{id(websocket)}", maxsize=window) as subscription:
        access = _Access(hub, grant)
        states = hub.states()
        if access.limited:  # a member shown some devices
            states = {d.id: states[d.id] for d in hub.devices() if sees(grant, d) and d.id in states}
        await websocket.send_json({"type": "hello", "states": {k: state_json(v) for k, v in states.items()}})
        send = _send_batches if batch else _send_events
        async with asyncio.TaskGroup() as group:
            sender = group.create_task(send(websocket, subscription, access), name="ws-send")
            watcher = group.create_task(close_when_revoked(websocket, hub, token), name="ws-revoked")
            follower = group.create_task(follow_grant(hub, token, access, websocket), name="ws-grant")
            try:
                await _receive_commands(websocket, hub, language, access)
            finally:
                sender.cancel()
                watcher.cancel()
                follower.cancel()


async def close_when_revoked(websocket: WebSocket, hub: Hub, token: str) -> None:
    """Close the socket as soon as its token is revoked (4401, as for a missing token)."""
    await hub.household.wait_revoked(token)
    with contextlib.suppress(RuntimeError):
        await websocket.close(code=4401, reason="token revoked")


FOLLOW_S = 0.5
"""How soon an open socket follows a change of its member's permissions or of the devices."""


class _Access:
    """A socket's Grant as its member stands now: what it is shown and what its commands may do."""

    def __init__(self, hub: Hub, grant: Grant) -> None:
        self.hub = hub
        self.grant = grant

    @property
    def limited(self) -> bool:
        return self.grant.devices is not None or self.grant.rooms is not None

    @property
    def audience(self) -> _Audience:
        return (self.grant.devices, self.grant.rooms) if self.limited else None

    def shown(self, event: Event) -> bool:
        return sees_event(self.hub, self.grant, event)


async def follow_grant(hub: Hub, token: str, access: _Access, websocket: WebSocket | None = None) -> None:
    """Keep the socket's Grant current: a member narrowed (or widened), or a device moved into or
    out of their rooms, changes what the open socket streams and may command within FOLLOW_S.
    When the devices shown change, the socket says so (`{"type": "access", "devices": [...]}`),
    so that an open page redraws its cards. A token that stops working is `close_when_revoked`'s."""
    shown = _shown_ids(hub, access.grant)
    while True:
        await asyncio.sleep(FOLLOW_S)
        grant = await hub.grant_for(token, Door.WS)
        if grant is None:
            continue
        access.grant = grant
        now = _shown_ids(hub, grant)
        if now != shown and websocket is not None:
            shown = now
            await websocket.send_json({"type": "access", "devices": sorted(now)})


def _shown_ids(hub: Hub, grant: Grant) -> frozenset[str]:
    return frozenset(d.id for d in hub.devices() if sees(grant, d))


def _shown_to(hub: Hub, grant: Grant) -> _Shown:
    return lambda event: sees_event(hub, grant, event)


async def _send_events(websocket: WebSocket, subscription: Subscription, access: _Access) -> None:
    reported = 0
    try:
        while True:
            event = await subscription.get()
            if access.limited and not access.shown(event):
                continue
            message: dict[str, Any] = {"type": "event", "event": event_json(event)}
            if subscription.dropped != reported:
                reported = subscription.dropped
                message["dropped"] = reported
            await websocket.send_json(message)
    except (WebSocketDisconnect, RuntimeError):
        return


async def _send_batches(websocket: WebSocket, subscription: Subscription, access: _Access) -> None:
    fanout = _fanout(subscription.bus)
    loop = asyncio.get_running_loop()
    sent_at = -BATCH_INTERVAL_S
    try:
        while True:
            await subscription.wait()
            if loop.time() - sent_at < BATCH_INTERVAL_S:
                await fanout.next_tick()  # events keep coming: gather them into the next tick's message
            sequences = subscription.take(_MAX_BATCH)
            message = fanout.message(
                subscription.bus, sequences, access.audience, access.shown, subscription.dropped
            )
            if message:
                sent_at = loop.time()
                await websocket.send_text(message)
    except (WebSocketDisconnect, RuntimeError):
        return


async def _receive_commands(websocket: WebSocket, hub: Hub, language: str, access: _Access) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                if text is None:  # a binary frame: this socket speaks JSON text only
                    reply = _error_reply("error.malformed_request", language, detail="send JSON text")
                else:
                    reply = await _handle(text, hub, language, access.grant)
            except Exception:  # one bad message answers an error; it never closes the socket
                _LOGGER.exception("unexpected error handling a WebSocket message")
                reply = _error_reply("error.unknown", language)
            await websocket.send_json(reply)
    except WebSocketDisconnect:
        return


async def _handle(text: str, hub: Hub, language: str, grant: Grant) -> dict[str, Any]:
    if len(text.encode("utf-8")) > _MAX_MESSAGE_BYTES:
        return {
            "type": "error",
            "error": {
                "key": "error.body_too_large",
                "message": render("error.body_too_large", language, limit=_MAX_MESSAGE_BYTES),
            },
        }
    try:
        message = WsCommand.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:  # ValueError: not JSON, or an int of 4300+ digits
        detail = str(exc).splitlines()[0][:200]
        return {
            "type": "error",
            "error": {
                "key": "error.malformed_request",
                "message": render("error.malformed_request", language, detail=detail),
            },
        }
    try:
        state = await hub.dispatch(message.to_command(message.device, grant.source), grant=grant)
    except OneteamError as exc:
        return {"type": "result", "id": message.id, "ok": False, **error_body(exc, language)}
    return {"type": "result", "id": message.id, "ok": True, "state": state_json(state)}


def _error_reply(key: str, language: str, **params: object) -> dict[str, Any]:
    return {"type": "error", "error": {"key": key, "message": render(key, language, **params)}}
