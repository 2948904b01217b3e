"""The Wyoming wake service on a real TCP socket, spoken to hands-free by the wyoming package's client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.wake import Detect, Detection, NotDetected

from oneteam.interop.wyoming import WyomingVoice
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer, shared_model
from oneteam.voice.audio import read_wav
from oneteam.voice.espeak import espeak
from oneteam.voice.tts import Speaker
from oneteam.voice.wake_model import WakeModel
from tests.conftest import SHARED, free_port

SPEECH = SHARED / "data" / "speech_ko"
pytestmark = pytest.mark.slow


@pytest.fixture
async def wake_port() -> AsyncIterator[int]:
    if not (SPEECH / "transcripts.tsv").is_file():
        pytest.skip("shared/data/speech_ko is not beside the repository")

    async def act(text: str, room: str | None) -> ConversationReply:
        return ConversationReply(text="", language="ko", kind="none")

    model = shared_model()
    wake = WakeModel(model, ["빅스비", "원팀아"])
    voice = WyomingVoice(KoreanRecognizer(model), Speaker(), act, wake)
    port = free_port()
    server = await voice.start(f"tcp://127.0.0.1:{port}")
    yield port
    await server.stop()


async def _next(client: AsyncTcpClient) -> Event:
    event = await asyncio.wait_for(client.read_event(), timeout=60)
    assert event is not None
    return event


async def _stream(client: AsyncTcpClient, pcm: bytes, rate: int = 16000) -> None:
    """What a satellite does: audio in small chunks as it is recorded."""
    await client.write_event(AudioStart(rate=rate, width=2, channels=1).event())
    for start in range(0, len(pcm), 2048):
        await client.write_event(
            AudioChunk(rate=rate, width=2, channels=1, audio=pcm[start : start + 2048]).event()
        )
    await client.write_event(AudioStop().event())


async def test_describe_lists_the_wake_phrases(wake_port: int) -> None:
    async with AsyncTcpClient("127.0.0.1", wake_port) as client:
        await client.write_event(Describe().event())
        info = Info.from_event(await _next(client))
    models = info.wake[0].models
    assert [m.name for m in models] == ["빅스비", "원팀아"]
    assert all(m.languages == ["ko"] and m.phrase == m.name for m in models)
    # Beside them, the English models the pymicro-wakeword wheel ships.
    english = info.wake[1]
    assert english.name == "microwakeword"
    assert {m.name for m in english.models} == {"okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"}
    assert all(m.languages == ["en"] for m in english.models)


def _english(text: str) -> bytes:
    """eSpeak NG's American voice at 16 kHz, with silence either side."""
    engine = espeak()
    chunks: list[bytes] = []
    engine.synthesize(text, "en-us", 150, lambda pcm: chunks.append(pcm) is None)
    samples = np.frombuffer(b"".join(chunks), dtype="<i2").astype(np.float32)
    at = np.arange(0, len(samples) - 1, engine.sample_rate / 16_000)
    resampled = np.interp(at, np.arange(len(samples)), samples).astype("<i2").tobytes()
    return bytes(16_000) + resampled + bytes(32_000)


async def test_an_english_wake_word_is_detected_beside_the_korean_phrases(wake_port: int) -> None:
    pcm = _english("Alexa.")
    async with AsyncTcpClient("127.0.0.1", wake_port) as client:
        await client.write_event(Detect(names=["alexa"]).event())
        await _stream(client, pcm)
        detection = Detection.from_event(await _next(client))
        assert detection.name == "alexa"
        # A satellite asking only for a Korean phrase is not woken by it; nor is one asking for
        # another English model by an English sentence without it.
        await client.write_event(Detect(names=["빅스비"]).event())
        await _stream(client, pcm)
        assert NotDetected.is_type((await _next(client)).type)
        await client.write_event(Detect(names=["okay_nabu"]).event())
        await _stream(client, _english("Turn on the kitchen light."))
        assert NotDetected.is_type((await _next(client)).type)


async def test_a_recorded_wake_word_streamed_by_a_client_is_detected(wake_port: int) -> None:
    pcm = read_wav(SPEECH / "pv_porcupine_bixby.wav").data
    async with AsyncTcpClient("127.0.0.1", wake_port) as client:
        await client.write_event(Detect(names=["빅스비"]).event())
        await _stream(client, pcm)
        detection = Detection.from_event(await _next(client))
    assert detection.name == "빅스비"
    # Milliseconds into the stream where the phrase ended (the word is said 0.8-1.3 s in).
    assert detection.timestamp is not None and 900 < detection.timestamp < 2000


async def test_speech_without_the_phrase_is_answered_not_detected(wake_port: int) -> None:
    pcm = read_wav(SPEECH / "pv_rhino_test_within_context_ko.wav").data
    async with AsyncTcpClient("127.0.0.1", wake_port) as client:
        await client.write_event(Detect(names=None).event())
        await _stream(client, pcm)
        event = await _next(client)
    assert NotDetected.is_type(event.type), event


async def test_asking_for_a_phrase_that_is_not_served_is_an_error(wake_port: int) -> None:
    async with AsyncTcpClient("127.0.0.1", wake_port) as client:
        await client.write_event(Detect(names=["헤이구글"]).event())
        error = Error.from_event(await _next(client))
    assert "헤이구글" in error.text
