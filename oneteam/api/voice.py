"""The voice WebSocket: push-to-talk audio in, what was heard, understood, done and said out.

Client → hub: `{"type": "start", "room": "living_room", "rate": 16000, "width": 2, "channels": 1,
"biased": true}` (all optional), then binary PCM frames, then `{"type": "stop"}` (or nothing: the
turn also ends when voice activity detects the end of speech). Hub → client: `ready`, then
`speech_start`, `partial` {text}, `speech_end`, `final` {text, mode, fell_back}, `intent` {kind,
result, done}, `reply` {text, language, timings_ms, audio {rate, width, channels, bytes}}, the reply
audio as one binary frame, and `turn_end`; `no_speech` when nothing was said; `error` {key,
message} for unusable input. A socket carries any number of turns.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from oneteam.api.auth import websocket_grant, websocket_origin_ok, websocket_token
from oneteam.api.ws import close_when_revoked
from oneteam.hub import Hub
from oneteam.hub.conversation import DOOR_GRANT
from oneteam.i18n import render
from oneteam.model import Door, Grant, OneteamError
from oneteam.voice.audio import AudioFormat
from oneteam.voice.pipeline import TurnEvent, VoicePipeline, VoiceSession, VoiceTurn

_LOGGER = logging.getLogger(__name__)
_MAX_FRAME_BYTES = 256 * 1024

router = APIRouter(tags=["voice"])


async def _grant(websocket: WebSocket) -> Grant | None:
    check = getattr(websocket.app.state, "check_token", None)
    if check is None:
        return await websocket_grant(websocket, Door.VOICE)
    # A voice server without a hub (its own token check): one principal for its one token.
    token = websocket.query_params.get("token")
    if not token:
        return None
    verdict = check(token)
    ok = bool(await verdict) if inspect.isawaitable(verdict) else bool(verdict)
    return Grant(principal="token:voice", door=Door.VOICE) if ok else None


@router.websocket("/api/voice")
async def voice_socket(websocket: WebSocket) -> None:
    """Push-to-talk voice turns over one socket."""
    if not websocket_origin_ok(websocket):
        await websocket.close(code=1008, reason="origin not allowed")  # before accept: HTTP 403
        return
    grant = await _grant(websocket)
    if grant is None:
        await websocket.close(code=4401, reason="unauthorized")
        return
    # Sentences heard here reach Hub.converse through the pipeline, under this socket's grant.
    DOOR_GRANT.set(grant)
    pipeline: VoicePipeline | None = getattr(websocket.app.state, "voice", None)
    await websocket.accept()
    if pipeline is None:
        await _error(websocket, OneteamError("voice is not running", detail="voice"), "error.voice.off")
        await websocket.close(code=1011)
        return
    language = websocket.query_params.get("lang", "ko")
    await websocket.send_json({"type": "ready", "language": "ko"})
    hub: Hub | None = getattr(websocket.app.state, "hub", None)
    token = websocket_token(websocket)
    watcher = (
        asyncio.create_task(close_when_revoked(websocket, hub, token), name="voice-revoked")
        if hub is not None and token is not None
        else None
    )
    session: VoiceSession | None = None
    try:
        while True:
            message = await websocket.receive()
            if message.get("type") == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                session = session or pipeline.session(websocket.query_params.get("room"))
                session = await _audio(websocket, session, message["bytes"], language)
            elif message.get("text") is not None:
                session = await _control(websocket, pipeline, session, message["text"], language)
    except WebSocketDisconnect:
        return
    finally:
        if watcher is not None:
            watcher.cancel()


async def _audio(
    websocket: WebSocket, session: VoiceSession, frame: bytes, language: str
) -> VoiceSession | None:
    if len(frame) > _MAX_FRAME_BYTES:
        await _error(websocket, OneteamError("frame too large", limit=_MAX_FRAME_BYTES), "error.voice.frame")
        return None
    try:
        events = await session.feed(frame)
    except OneteamError as exc:
        await _error(websocket, exc, exc.key, language)
        return None
    for event in events:
        await websocket.send_json(
            {"type": str(event.kind), "text": event.text} if event.text else {"type": str(event.kind)}
        )
    if session.ended:
        await _finish(websocket, session)
        return None
    return session


async def _control(
    websocket: WebSocket, pipeline: VoicePipeline, session: VoiceSession | None, text: str, language: str
) -> VoiceSession | None:
    try:
        message: Any = json.loads(text)
        kind = message.get("type") if isinstance(message, dict) else None
    except json.JSONDecodeError:
        kind = None
        message = {}
    if kind == "start":
        try:
            audio_format = AudioFormat(
                rate=int(message.get("rate", 16000)),
                width=int(message.get("width", 2)),
                channels=int(message.get("channels", 1)),
            )
            room = message.get("room") or websocket.query_params.get("room")
            return pipeline.session(
                str(room) if room else None,
                biased=bool(message.get("biased", True)),
                audio_format=audio_format,
            )
        except (TypeError, ValueError) as exc:
            await _error(websocket, OneteamError(str(exc), detail=str(exc)), "error.voice.message", language)
        except OneteamError as exc:
            await _error(websocket, exc, exc.key, language)
        return None
    if kind == "stop":
        if session is None:
            await websocket.send_json({"type": "no_speech"})
        else:
            await _finish(websocket, session)
        return None
    await _error(
        websocket, OneteamError("unknown message", detail=str(kind)), "error.voice.message", language
    )
    return session


async def _finish(websocket: WebSocket, session: VoiceSession) -> None:
    async def relay(event: TurnEvent) -> None:
        if event.kind in {"intent", "reply"}:
            return  # sent below with their details
        body: dict[str, Any] = {"type": str(event.kind)}
        if event.text:
            body["text"] = event.text
        await websocket.send_json(body)

    try:
        turn = await session.finish(relay)
    except OneteamError as exc:
        await _error(websocket, exc, exc.key)
        return
    await _send_turn(websocket, turn)


async def _send_turn(websocket: WebSocket, turn: VoiceTurn) -> None:
    if turn.transcript is not None and turn.reply is not None:
        await websocket.send_json(
            {"type": "transcript", "mode": str(turn.transcript.mode), "fell_back": turn.transcript.fell_back}
        )
    if turn.reply is not None:
        reply = turn.reply
        await websocket.send_json(
            {"type": "intent", "kind": reply.kind, "result": reply.result, "done": reply.done}
        )
        audio = turn.audio
        await websocket.send_json(
            {
                "type": "reply",
                "text": reply.text,
                "language": reply.language,
                "kind": reply.kind,
                "changed_devices": reply.changed_devices,
                "timings_ms": {k: round(v, 1) for k, v in turn.timings_ms.items()},
                "audio": (
                    {"rate": audio.sample_rate, "width": 2, "channels": 1, "bytes": len(audio.pcm)}
                    if audio
                    else None
                ),
            }
        )
        if audio is not None:
            await websocket.send_bytes(audio.pcm)
    await websocket.send_json({"type": "turn_end"})


async def _error(websocket: WebSocket, exc: OneteamError, key: str, language: str = "ko") -> None:
    message = render(key, language, **exc.params)
    await websocket.send_json({"type": "error", "key": key, "message": message, "detail": str(exc)})
