"""Text → speech: a Korean text normaliser in front of a swappable engine.

The default engine is eSpeak NG's Korean voice (espeak.py). An operator who has a Piper/VITS-style
ONNX voice (model + JSON config) points to it and `PiperEngine` (piper.py) is used instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from oneteam.voice.espeak import SpeechEngineUnavailable, espeak
from oneteam.voice.normalize import normalize

_LOGGER = logging.getLogger(__name__)

__all__ = ["EspeakEngine", "Speaker", "SpeechAudio", "SpeechEngine", "SpeechEngineUnavailable", "load_engine"]


class SpeechEngine(Protocol):
    """Something that turns spoken-form text into 16-bit mono PCM."""

    name: str
    sample_rate: int

    def synthesize(self, text: str, sink: Callable[[bytes], bool]) -> None:
        """Speak `text`, handing PCM buffers to `sink` as they are made (False from sink stops)."""


class EspeakEngine:
    """eSpeak NG with a Korean voice."""

    def __init__(self, voice: str = "ko", rate_wpm: int = 165) -> None:
        self.name = f"espeak-ng:{voice}"
        self._espeak = espeak()
        self.sample_rate = self._espeak.sample_rate
        self.voice = voice
        self.rate_wpm = rate_wpm

    def synthesize(self, text: str, sink: Callable[[bytes], bool]) -> None:
        """Speak through eSpeak NG."""
        self._espeak.synthesize(text, self.voice, self.rate_wpm, sink)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechAudio:
    """One spoken sentence."""

    pcm: bytes
    """16-bit mono little-endian PCM."""
    sample_rate: int
    spoken_text: str
    """The text after normalisation, as the engine read it."""
    first_audio_s: float
    """Seconds from the call to the first buffer of audio."""
    total_s: float

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.pcm) / (2 * self.sample_rate)


class Speaker:
    """Normalises Korean text and speaks it with one engine."""

    def __init__(self, engine: SpeechEngine | None = None, language: str = "ko") -> None:
        self.engine = engine or EspeakEngine()
        self.language = language

    @property
    def sample_rate(self) -> int:
        """The engine's output rate."""
        return self.engine.sample_rate

    def stream(self, text: str, sink: Callable[[bytes], bool]) -> str:
        """Speak `text`, streaming PCM to `sink` (blocking); returns the spoken form."""
        spoken = normalize(text, self.language)
        if spoken:
            self.engine.synthesize(spoken, sink)
        return spoken

    def speak(self, text: str) -> SpeechAudio:
        """Speak `text` into one buffer (blocking: call from a thread)."""
        started = time.perf_counter()
        chunks: list[bytes] = []
        first: list[float] = []

        def collect(pcm: bytes) -> bool:
            if not first:
                first.append(time.perf_counter() - started)
            chunks.append(pcm)
            return True

        spoken = self.stream(text, collect)
        total = time.perf_counter() - started
        return SpeechAudio(
            pcm=b"".join(chunks),
            sample_rate=self.sample_rate,
            spoken_text=spoken,
            first_audio_s=first[0] if first else total,
            total_s=total,
        )


def load_engine(piper_model: Path | None = None, piper_config: Path | None = None) -> SpeechEngine:
    """The Piper voice when one is given, else eSpeak NG's Korean voice."""
    if piper_model is None:
        return EspeakEngine()
    from oneteam.voice.piper import PiperEngine

    return PiperEngine(piper_model, piper_config)
