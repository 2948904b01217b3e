"""A spoken turn end to end, with a small real `act` that records what it was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, CommandName, Grant, Home
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer
from oneteam.voice.audio import AudioError, AudioFormat, read_wav
from oneteam.voice.pipeline import EventKind, TurnEvent, VoicePipeline, for_hub
from oneteam.voice.tts import Speaker


@dataclass
class RecordingHome:
    """Stands in for understanding + dispatch: lights that turn blue when asked in Korean."""

    heard: list[tuple[str, str | None]] = field(default_factory=list)
    light_color: str = "white"

    async def act(self, text: str, room: str | None) -> ConversationReply:
        self.heard.append((text, room))
        if "파란색" in text:
            self.light_color = "blue"
            return ConversationReply(text="조명을 파란색으로 바꿨어요.", language="ko", kind="command")
        return ConversationReply(text="잘 모르겠어요.", language="ko", kind="none")


@pytest.fixture
def home_actor() -> RecordingHome:
    return RecordingHome()


@pytest.fixture
def pipeline(recognizer: KoreanRecognizer, home_actor: RecordingHome) -> VoicePipeline:
    return VoicePipeline(recognizer, home_actor.act, Speaker())


@pytest.mark.slow
async def test_a_spoken_command_reaches_the_home_and_is_answered(
    pipeline: VoicePipeline, home_actor: RecordingHome, speech_dir: Path
) -> None:
    pcm = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data + bytes(32_000)
    turn = await pipeline.run(pcm, room="living_room")
    assert home_actor.light_color == "blue"
    assert home_actor.heard[0][1] == "living_room"
    assert turn.reply is not None
    assert turn.reply.text == "조명을 파란색으로 바꿨어요."
    assert turn.audio is not None
    assert turn.audio.duration_s > 1.0
    for stage in ("asr_final", "act", "end_to_action", "tts_first_audio", "tts", "total"):
        assert turn.timings_ms[stage] >= 0


async def test_silence_gives_no_command(pipeline: VoicePipeline, home_actor: RecordingHome) -> None:
    turn = await pipeline.run(bytes(3 * 32_000))
    assert not turn.heard_speech
    assert turn.reply is None
    assert home_actor.heard == []


async def test_noise_gives_no_command(pipeline: VoicePipeline, home_actor: RecordingHome) -> None:
    noise = (np.random.default_rng(7).normal(0, 0.25, 3 * 16_000) * 32767).clip(-32767, 32767)
    turn = await pipeline.run(noise.astype("<i2").tobytes())
    assert turn.reply is None
    assert home_actor.heard == []


async def test_malformed_audio_is_a_clear_error_and_no_action(
    pipeline: VoicePipeline, home_actor: RecordingHome
) -> None:
    with pytest.raises(AudioError, match="sample width"):
        pipeline.session(audio_format=AudioFormat(width=3))
    with pytest.raises(AudioError, match="not a PCM WAV"):
        read_wav(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    assert home_actor.heard == []


@pytest.mark.slow
async def test_stereo_44k_audio_goes_through_a_session_with_events(
    pipeline: VoicePipeline, home_actor: RecordingHome, speech_dir: Path
) -> None:
    mono = np.frombuffer(read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data, dtype="<i2")
    positions = np.arange(int(mono.size * 44_100 / 16_000)) * (16_000 / 44_100)
    upsampled = np.interp(positions, np.arange(mono.size), mono.astype(np.float64)).astype("<i2")
    stereo = np.repeat(upsampled[:, None], 2, axis=1).tobytes() + bytes(4 * 44_100)
    session = pipeline.session(audio_format=AudioFormat(rate=44_100, channels=2))
    events: list[TurnEvent] = []
    step = 4 * 4410
    for start in range(0, len(stereo), step):
        events.extend(await session.feed(stereo[start : start + step]))
        if session.ended:
            break

    async def record(event: TurnEvent) -> None:
        events.append(event)

    turn = await session.finish(record)
    kinds = [event.kind for event in events]
    assert kinds[0] is EventKind.SPEECH_START
    assert EventKind.PARTIAL in kinds
    assert EventKind.SPEECH_END in kinds
    assert kinds[-1] is EventKind.REPLY
    assert turn.transcript is not None
    assert "파란색" in turn.transcript.text


@dataclass
class LightingAgent:
    """A small conversation agent on a real hub: a sentence naming 파란색 turns the living-room light on."""

    hub: Hub
    sentences: list[tuple[str, str | None, str]] = field(default_factory=list)

    async def converse(
        self,
        text: str,
        *,
        room: str | None,
        language: str | None,
        session: str,
        source: str,
        grant: Grant | None = None,
    ) -> ConversationReply:
        self.sentences.append((text, room, source))
        if "파란색" not in text:
            return ConversationReply(text="잘 모르겠어요.", language="ko", kind="none")
        await self.hub.dispatch(
            Command(device_id="light_living", name=CommandName.TURN_ON, source=source), grant=grant
        )
        return ConversationReply(
            text="거실 조명을 켰어요.", language="ko", kind="command", changed_devices=["light_living"]
        )


@pytest.mark.slow
async def test_a_hub_pipeline_turns_speech_into_a_dispatched_command(
    home: Home, speech_dir: Path, tmp_path: Path
) -> None:
    hub = Hub(home, SqliteStorage(tmp_path / "voice.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with hub:
        agent = LightingAgent(hub)
        hub.set_conversation_agent(agent)
        pipeline = for_hub(hub)
        pcm = read_wav(speech_dir / "pv_rhino_test_within_context_ko.wav").data + bytes(32_000)
        turn = await pipeline.run(pcm, room="living_room")
        assert hub.state("light_living").attributes["power"] is True
    assert agent.sentences[0][1:] == ("living_room", "voice")
    assert turn.reply is not None
    assert turn.reply.changed_devices == ["light_living"]
