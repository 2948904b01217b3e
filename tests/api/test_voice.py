"""The /api/voice WebSocket on a real uvicorn server, with the real recogniser and speaker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from oneteam.api.voice import router
from oneteam.hub import load_home
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.grammar import build_grammar, speech_vocabulary
from oneteam.voice.pipeline import VoicePipeline
from oneteam.voice.tts import Speaker
from tests.conftest import SHARED, free_port

TOKEN = "voice-test-token"
SPEECH = SHARED / "data" / "speech_ko"
pytestmark = pytest.mark.slow


@pytest.fixture
async def voice_server() -> AsyncIterator[tuple[str, list[str]]]:
    if not (SPEECH / "transcripts.tsv").is_file():
        pytest.skip("shared/data/speech_ko is not beside the repository")
    heard: list[str] = []

    async def act(text: str, room: str | None) -> ConversationReply:
        heard.append(text)
        return ConversationReply(text=f"{len(text)}자를 들었어요.", language="ko", kind="command")

    model = shared_model()
    grammar = build_grammar(load_home(SHARED / "eval" / "home.yaml"), speech_vocabulary(), model.is_known)
    app = FastAPI()
    app.include_router(router)
    app.state.voice = VoicePipeline(KoreanRecognizer(model, grammar), act, Speaker())
    app.state.check_token = lambda token: token == TOKEN
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve(), name="voice-test-server")
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/api/voice", heard
    server.should_exit = True
    await task


async def test_a_spoken_turn_streams_text_intent_reply_and_audio(
    voice_server: tuple[str, list[str]],
) -> None:
    url, heard = voice_server
    pcm = read_wav(Path(SPEECH) / "pv_rhino_test_within_context_ko.wav").data + bytes(32_000)
    async with websockets.connect(f"{url}?token={TOKEN}&room=living_room") as socket:
        assert json.loads(await socket.recv())["type"] == "ready"
        await socket.send(json.dumps({"type": "start"}))
        for start in range(0, len(pcm), 3200):
            await socket.send(pcm[start : start + 3200])
        messages: list[dict[str, object]] = []
        audio = b""
        while True:
            message = await asyncio.wait_for(socket.recv(), timeout=30)
            if isinstance(message, bytes):
                audio += message
                continue
            messages.append(json.loads(message))
            if messages[-1]["type"] == "turn_end":
                break
    kinds = [m["type"] for m in messages]
    assert {"speech_start", "partial", "speech_end", "final", "intent", "reply"} <= set(kinds)
    final = next(m for m in messages if m["type"] == "final")
    assert "파란색" in str(final["text"])
    assert heard == [final["text"]]
    reply = next(m for m in messages if m["type"] == "reply")
    assert isinstance(reply["audio"], dict)
    assert reply["audio"]["bytes"] == len(audio) > 0
    assert "end_to_action" in reply["timings_ms"]  # type: ignore[operator]


async def test_a_wrong_token_is_refused(voice_server: tuple[str, list[str]]) -> None:
    url, _ = voice_server
    # Closing before accepting refuses the handshake itself.
    with pytest.raises(websockets.InvalidStatus, match="403"):
        async with websockets.connect(f"{url}?token=wrong"):
            pass


async def test_silence_then_stop_gives_no_speech_and_no_action(voice_server: tuple[str, list[str]]) -> None:
    url, heard = voice_server
    async with websockets.connect(f"{url}?token={TOKEN}") as socket:
        await socket.recv()
        await socket.send(json.dumps({"type": "start", "rate": 16000}))
        await socket.send(bytes(32_000))
        await socket.send(json.dumps({"type": "stop"}))
        message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert message["type"] == "no_speech"
    assert heard == []


async def test_bad_format_and_unknown_messages_get_clear_errors(voice_server: tuple[str, list[str]]) -> None:
    url, heard = voice_server
    async with websockets.connect(f"{url}?token={TOKEN}") as socket:
        await socket.recv()
        await socket.send(json.dumps({"type": "start", "width": 3}))
        error = json.loads(await socket.recv())
        assert error["type"] == "error"
        assert error["key"] == "error.voice.audio"
        assert "3" in error["message"]
        await socket.send("not json")
        error = json.loads(await socket.recv())
        assert error["key"] == "error.voice.message"
    assert heard == []
