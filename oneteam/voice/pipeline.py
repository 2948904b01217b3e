"""One spoken turn: audio → voice activity → recognition → understanding and dispatch → reply → speech.

The understanding-and-dispatch step is injected (`act`), so the same pipeline runs against the
hub's conversation agent, a remote hub over HTTP, or anything else that answers a sentence. Each
turn reports how long every stage took.

Activation is push-to-talk (a door opens a session: the WebSocket's `start` message, Enter in
`oneteam listen`, Wyoming's `audio-start`) or hands-free: the wake phrase (wake.py) opens one
(hands_free.py, `oneteam listen --wake`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from oneteam.hub import Hub
from oneteam.model.conversation import ConversationReply
from oneteam.voice.asr import KoreanRecognizer, RecognitionStream, Transcript
from oneteam.voice.audio import RECOGNISER_FORMAT, SAMPLE_RATE, SAMPLE_WIDTH, AudioFormat, convert
from oneteam.voice.tts import Speaker, SpeechAudio
from oneteam.voice.vad import SpeechDetector, VadEventKind, VadSettings

_LOGGER = logging.getLogger(__name__)

Act = Callable[[str, str | None], Awaitable[ConversationReply]]
"""Understand a sentence said in a room (or None) and act on it; returns what to answer."""


class EventKind(StrEnum):
    """What a turn reports while it runs."""

    SPEECH_START = "speech_start"
    PARTIAL = "partial"
    SPEECH_END = "speech_end"
    FINAL = "final"
    INTENT = "intent"
    REPLY = "reply"
    NO_SPEECH = "no_speech"


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnEvent:
    """One step of a turn, for doors that stream progress (WebSocket, Wyoming)."""

    kind: EventKind
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceTurn:
    """Everything one spoken turn produced."""

    transcript: Transcript | None
    """None when no speech was heard."""
    reply: ConversationReply | None
    """None when nothing was understood or said."""
    audio: SpeechAudio | None
    """The spoken reply."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Per stage: `asr_final` (end of speech → text), `act` (understanding and dispatch),
    `end_to_action` (end of speech → act returned), `tts_first_audio`, `tts`, `total`."""

    @property
    def heard_speech(self) -> bool:
        """Whether any speech reached the recogniser."""
        return self.transcript is not None and not self.transcript.is_empty


class VoiceSession:
    """One utterance in progress: feed audio, then `finish()`; single use."""

    def __init__(
        self,
        pipeline: VoicePipeline,
        room: str | None,
        biased: bool,
        audio_format: AudioFormat,
        vad_settings: VadSettings | None = None,
    ) -> None:
        audio_format.check()
        self._pipeline = pipeline
        self.room = room
        self._format = audio_format
        self._detector = SpeechDetector(vad_settings or pipeline.vad_settings)
        self._stream: RecognitionStream = pipeline.recognizer.stream(biased=biased)
        self._partial = ""
        self._leftover = b""
        self._started = time.perf_counter()
        self.speech_ended_at: float | None = None
        self._finished = False

    @property
    def in_speech(self) -> bool:
        """Voice activity has heard the utterance begin."""
        return self._detector.in_speech

    @property
    def ended(self) -> bool:
        """Voice activity says the utterance is over (more audio would be ignored)."""
        return self.speech_ended_at is not None

    async def feed(self, data: bytes) -> list[TurnEvent]:
        """Feed audio in the session's format; the events it caused (AudioError on malformed audio)."""
        if self.ended or self._finished:
            return []
        data = self._leftover + data
        whole = len(data) - len(data) % self._format.frame_bytes
        self._leftover = data[whole:]
        pcm = convert(data[:whole], self._format) if self._format != RECOGNISER_FORMAT else data[:whole]
        return await asyncio.to_thread(self._process, pcm)

    def _process(self, pcm: bytes) -> list[TurnEvent]:
        events: list[TurnEvent] = []
        was_in_speech = self._detector.in_speech
        for vad_event in self._detector.process(pcm):
            if vad_event.kind is VadEventKind.END:
                self.speech_ended_at = time.perf_counter()
                events.append(TurnEvent(kind=EventKind.SPEECH_END))
                break
            if not was_in_speech:
                was_in_speech = True
                events.append(TurnEvent(kind=EventKind.SPEECH_START))
            partial = self._stream.accept(vad_event.audio)
            if partial and partial != self._partial:
                self._partial = partial
                events.append(TurnEvent(kind=EventKind.PARTIAL, text=partial))
        return events

    async def finish(self, on_event: Callable[[TurnEvent], Awaitable[None]] | None = None) -> VoiceTurn:
        """Close the utterance: final text, act, spoken reply; `on_event` hears each step."""
        if self._finished:
            raise RuntimeError("the turn is already finished")
        self._finished = True
        timings: dict[str, float] = {}

        async def emit(event: TurnEvent) -> None:
            if on_event is not None:
                await on_event(event)

        if not self.ended:
            tail = self._detector.finish()
            for vad_event in tail:
                if vad_event.kind is VadEventKind.SPEECH:
                    await asyncio.to_thread(self._stream.accept, vad_event.audio)
            self.speech_ended_at = time.perf_counter()
        end = self.speech_ended_at or time.perf_counter()
        if self._detector.speech_s == 0.0 or not self._detector.in_speech:
            await emit(TurnEvent(kind=EventKind.NO_SPEECH))
            timings["total"] = _ms(self._started)
            return VoiceTurn(transcript=None, reply=None, audio=None, timings_ms=timings)
        transcript = await asyncio.to_thread(self._stream.finish)
        timings["asr_final"] = _ms(end)
        await emit(TurnEvent(kind=EventKind.FINAL, text=transcript.text))
        if transcript.is_empty:
            await emit(TurnEvent(kind=EventKind.NO_SPEECH))
            timings["total"] = _ms(self._started)
            return VoiceTurn(transcript=transcript, reply=None, audio=None, timings_ms=timings)
        acted = time.perf_counter()
        reply = await self._pipeline.act(transcript.text, self.room)
        timings["act"] = _ms(acted)
        timings["end_to_action"] = _ms(end)
        await emit(TurnEvent(kind=EventKind.INTENT, text=reply.kind))
        await emit(TurnEvent(kind=EventKind.REPLY, text=reply.text))
        audio = None
        if reply.text and self._pipeline.speaker is not None:
            audio = await asyncio.to_thread(self._pipeline.speaker.speak, reply.text, reply.language)
            timings["tts_first_audio"] = audio.first_audio_s * 1000
            timings["tts"] = audio.total_s * 1000
        timings["total"] = _ms(self._started)
        return VoiceTurn(transcript=transcript, reply=reply, audio=audio, timings_ms=timings)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


class VoicePipeline:
    """The voice door of the home: shares one recogniser and one speaker across sessions."""

    def __init__(
        self,
        recognizer: KoreanRecognizer,
        act: Act,
        speaker: Speaker | None = None,
        vad_settings: VadSettings | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.act = act
        self.speaker = speaker
        self.vad_settings = vad_settings or VadSettings()

    def session(
        self,
        room: str | None = None,
        *,
        biased: bool = True,
        audio_format: AudioFormat = RECOGNISER_FORMAT,
        vad_settings: VadSettings | None = None,
    ) -> VoiceSession:
        """A session for one utterance (push-to-talk start; `vad_settings` overrides the pipeline's)."""
        return VoiceSession(self, room, biased, audio_format, vad_settings)

    async def run(
        self, pcm: bytes, room: str | None = None, *, biased: bool = True, chunk_s: float = 0.1
    ) -> VoiceTurn:
        """A whole recorded utterance (16 kHz mono PCM) through every stage."""
        session = self.session(room, biased=biased)
        step = int(SAMPLE_RATE * chunk_s) * SAMPLE_WIDTH
        for start in range(0, len(pcm), step):
            await session.feed(pcm[start : start + step])
            if session.ended:
                break
        return await session.finish()


def for_hub(hub: Hub, *, verify: bool = False, speaker: Speaker | None = None) -> VoicePipeline:
    """The pipeline of a running hub: its home's grammar, its conversation agent (blocking: loads
    the ~0.5 GB model once per process, about 2 s)."""
    from oneteam.voice.asr import shared_model
    from oneteam.voice.grammar import build_grammar, speech_vocabulary

    model = shared_model()
    grammar = build_grammar(hub.home_view(), speech_vocabulary(), model.is_known)

    async def act(text: str, room: str | None) -> ConversationReply:
        return await hub.converse(text, room=room, session=f"voice:{room or ''}", source="voice")

    return VoicePipeline(KoreanRecognizer(model, grammar, verify=verify), act, speaker or Speaker())
