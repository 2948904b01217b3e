"""Hands-free turns: the wake phrase opens a voice session, the command after it is heard and acted on.

The wake detector listens to everything; when it fires, the audio already heard after the phrase
(a command said in the same breath) and the audio that follows go to a normal push-to-talk session
(voice activity → command recognition → act → reply). When the turn is over, the detector listens
again. A wake with no speech after it within `wait_s` ends quietly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, replace

from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.pipeline import VoicePipeline, VoiceSession, VoiceTurn
from oneteam.voice.wake import WakeDetector
from oneteam.voice.wake_model import Detection, WakeModel

_LOGGER = logging.getLogger(__name__)

_COMMAND_MIN_SPEECH_S = 0.3


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeTurn:
    """One wake and the turn it opened."""

    wake: Detection
    turn: VoiceTurn


async def wake_turns(
    pipeline: VoicePipeline,
    wake: WakeModel,
    audio: AsyncIterable[bytes],
    room: str | None = None,
    *,
    wait_s: float = 5.0,
) -> AsyncIterator[WakeTurn]:
    """Every wake heard in `audio` (16 kHz 16-bit mono PCM chunks) and the turn that followed it."""
    detector = WakeDetector(wake)
    # The recogniser's phrase ends before the voice does (the last vowel fades): a command needs
    # more than that tail of speech to begin.
    vad = replace(pipeline.vad_settings, min_speech_s=_COMMAND_MIN_SPEECH_S)
    session: VoiceSession | None = None
    woke: Detection | None = None
    waited = 0
    wait_bytes = round(wait_s * SAMPLE_RATE) * SAMPLE_WIDTH
    async for chunk in audio:
        if session is None or woke is None:
            found = await asyncio.to_thread(detector.feed, chunk)
            if not found:
                continue
            woke = found[0]
            _LOGGER.info("wake: %s (%.2f) at %.2f s", woke.name, woke.confidence, woke.end_s)
            session = pipeline.session(room, vad_settings=vad)
            await session.feed(detector.audio_after(woke.end_s))
            detector.reset()
            waited = 0
        else:
            await session.feed(chunk)
            waited += len(chunk)
        if session.ended or (waited > wait_bytes and not session.in_speech):
            yield WakeTurn(wake=woke, turn=await session.finish())
            session = woke = None
    if session is None:
        for late in await asyncio.to_thread(detector.finish):
            session, woke = pipeline.session(room, vad_settings=vad), late
    if session is not None and woke is not None:
        yield WakeTurn(wake=woke, turn=await session.finish())
