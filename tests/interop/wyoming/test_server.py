"""The Wyoming server on a real TCP socket, spoken to with the wyoming package's own client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from oneteam.hub import load_home
from oneteam.interop.wyoming import WyomingVoice
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.grammar import build_grammar, speech_vocabulary
from oneteam.voice.tts import Speaker
from tests.conftest import SHARED, free_port

SPEECH = SHARED / "data" / "speech_ko"
pytestmark = pytest.mark.slow


@pytest.fixture
async def wyoming_port() -> AsyncIterator[tuple[int, list[str]]]:
    if not (SPEECH / "transcripts.tsv").is_file():
        pytest.skip("shared/data/speech_ko is not beside the repository")
    acted: list[str] = []

    async def act(text: str, room: str | None) -> ConversationReply:
        acted.append(text)
        if "불" in text:
            return ConversationReply(text="거실 불을 켰어요.", language="ko", kind="command")
        return ConversationReply(text="잘 모르겠어요.", language="ko", kind="none")

    model = shared_model()
    grammar = build_grammar(load_home(SHARED / "eval" / "home.yaml"), speech_vocabulary(), model.is_known)
    voice = WyomingVoice(KoreanRecognizer(model, grammar), Speaker(), act)
    port = free_port()
    server = await voice.start(f"tcp://127.0.0.1:{port}")
    yield port, acted
    await server.stop()


async def _next(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), timeout=30)
    assert event is not None
    return event


async def test_describe_lists_korean_asr_tts_and_handling(wyoming_port: tuple[int, list[str]]) -> None:
    async with AsyncTcpClient("127.0.0.1", wyoming_port[0]) as client:
        await client.write_event(Describe().event())
        info = Info.from_event(await _next(client))
    assert info.asr[0].models[0].languages == ["ko"]
    assert info.tts[0].voices[0].languages == ["ko"]
    assert info.handle[0].models[0].languages == ["ko"]


async def test_audio_becomes_a_korean_transcript(wyoming_port: tuple[int, list[str]]) -> None:
    pcm = read_wav(SPEECH / "pv_rhino_test_within_context_ko.wav").data
    async with AsyncTcpClient("127.0.0.1", wyoming_port[0]) as client:
        await client.write_event(Transcribe(language="ko").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for start in range(0, len(pcm), 4096):
            chunk = AudioChunk(rate=16000, width=2, channels=1, audio=pcm[start : start + 4096])
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        transcript = Transcript.from_event(await _next(client))
    assert "파란색" in transcript.text
    assert transcript.language == "ko"


async def test_synthesize_streams_korean_audio(wyoming_port: tuple[int, list[str]]) -> None:
    async with AsyncTcpClient("127.0.0.1", wyoming_port[0]) as client:
        await client.write_event(Synthesize(text="온도를 24도로 맞췄어요.").event())
        start = AudioStart.from_event(await _next(client))
        audio = b""
        while True:
            event = await _next(client)
            if AudioStop.is_type(event.type):
                break
            audio += AudioChunk.from_event(event).audio
    assert start.rate == 22_050
    assert len(audio) / (2 * start.rate) > 1.0


async def test_transcript_is_handled_through_act(wyoming_port: tuple[int, list[str]]) -> None:
    port, acted = wyoming_port
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcript(text="거실 불 켜 줘").event())
        handled = Handled.from_event(await _next(client))
        await client.write_event(Transcript(text="오늘 점심 뭐 먹지").event())
        not_handled = await _next(client)
    assert handled.text == "거실 불을 켰어요."
    assert NotHandled.is_type(not_handled.type)
    assert acted == ["거실 불 켜 줘", "오늘 점심 뭐 먹지"]


async def test_audio_in_an_unusable_format_is_an_error_event(wyoming_port: tuple[int, list[str]]) -> None:
    port, acted = wyoming_port
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(AudioStart(rate=16000, width=3, channels=1).event())
        error = Error.from_event(await _next(client))
        await client.write_event(Describe().event())
        assert Info.is_type((await _next(client)).type)  # the connection survives
    assert error.code == "error.voice.audio"
    assert acted == []
