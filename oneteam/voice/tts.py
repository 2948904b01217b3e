"""Text → speech: a Korean text normaliser in front of a swappable engine.

The default engine is eSpeak NG's Korean voice (espeak.py), fed our normaliser's spoken form a
sentence at a time with a pause between sentences. Intelligibility is measured by speaking every
reply template and reading it back with the recogniser (bench/bench_voice_replies.py): eSpeak NG's
Korean is hard to follow whatever its rate, variant or pauses, so a better voice is the real fix
(no MBROLA Korean voice is packaged here). Spelling the reply as pronounced (pronounce.py) or as
eSpeak phonemes (espeak_phonemes.py) is there as `reading=` (docs/speech-output.md). An operator
who has a Piper/VITS-style ONNX voice (model + JSON config) points to it and `PiperEngine`
(piper.py) is used instead. Replies in another language (English) are spoken by eSpeak NG's
voice for that language, not read with Korean sounds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from oneteam.voice.espeak import SpeechEngineUnavailable, espeak
from oneteam.voice.espeak_phonemes import espeak_phonemes
from oneteam.voice.normalize import normalize
from oneteam.voice.pronounce import pronounce

_LOGGER = logging.getLogger(__name__)

__all__ = ["EspeakEngine", "Speaker", "SpeechAudio", "SpeechEngine", "SpeechEngineUnavailable", "load_engine"]


class SpeechEngine(Protocol):
    """Something that turns spoken-form text into 16-bit mono PCM."""

    name: str
    sample_rate: int

    def synthesize(self, text: str, sink: Callable[[bytes], bool]) -> None:
        """Speak `text`, handing PCM buffers to `sink` as they are made (False from sink stops)."""


DEFAULT_RATE_WPM = 165
"""A little slower than eSpeak NG's 175 (slower still, 120-140, read back no better in the bench)."""
DEFAULT_PAUSE_MS = 250
"""Silence between sentences, so each is heard as one."""
Reading = Literal["written", "pronounced", "phonemes"]
"""How the Korean voice gets the spoken form: as written (eSpeak reads each syllable as spelled), in
Hangul as pronounced (pronounce.py), or as eSpeak phonemes of that (espeak_phonemes.py)."""
DEFAULT_READING: Reading = "written"
"""Pronounced Hangul and eSpeak phonemes did not lower the round-trip CER (BENCHMARKS.md, 2026-12-04
10:19 and 10:41: written 90.9 / 90.3 %, pronounced 90.9 / 91.1 %, phonemes 91.2 %), so the engine
still gets the words as written; `reading=` picks another."""
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")
_VOICES = {"ko": "ko", "en": "en-us"}
"""eSpeak NG's voice for each reply language."""


def sentences(text: str) -> list[str]:
    """The text cut after each sentence's end mark."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


class EspeakEngine:
    """eSpeak NG with a Korean (or, for English replies, English) voice."""

    def __init__(
        self,
        voice: str = "ko",
        rate_wpm: int = DEFAULT_RATE_WPM,
        pause_ms: int = DEFAULT_PAUSE_MS,
        reading: Reading = DEFAULT_READING,
    ) -> None:
        self.name = f"espeak-ng:{voice}"
        self._espeak = espeak()
        self.sample_rate = self._espeak.sample_rate
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.pause_ms = pause_ms
        # Only the Korean voice reads Hangul letter by letter; other voices get the text as is.
        self.reading: Reading = reading if voice.rsplit("-", 1)[-1].startswith("ko") else "written"

    def synthesize(self, text: str, sink: Callable[[bytes], bool]) -> None:
        """Speak through eSpeak NG, a sentence at a time with a pause between sentences."""
        pause = bytes(self.sample_rate * self.pause_ms // 1000 * 2)
        for index, sentence in enumerate(sentences(text) if self.pause_ms else [text]):
            if index and not sink(pause):
                return
            self._espeak.synthesize(
                self.spelled(sentence), self.voice, self.rate_wpm, sink, phonemes=self.reading == "phonemes"
            )

    def spelled(self, text: str) -> str:
        """`text` as this engine hands it to eSpeak NG (see `Reading`)."""
        if self.reading == "written":
            return text
        spoken = pronounce(text)
        return espeak_phonemes(spoken) if self.reading == "phonemes" else spoken


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
        self.engine = engine or EspeakEngine(_VOICES.get(language, language))
        self.language = language
        self._others: dict[str, SpeechEngine] = {}

    @property
    def sample_rate(self) -> int:
        """The engine's output rate."""
        return self.engine.sample_rate

    def engine_for(self, language: str | None) -> SpeechEngine:
        """The main engine for the speaker's language; eSpeak NG's own voice for any other."""
        if language is None or language == self.language:
            return self.engine
        engine = self._others.get(language)
        if engine is None:
            engine = self._others[language] = EspeakEngine(_VOICES.get(language, language))
        return engine

    def stream(self, text: str, sink: Callable[[bytes], bool], language: str | None = None) -> str:
        """Speak `text` (in `language`, the speaker's own by default), streaming PCM to `sink`
        (blocking); returns the spoken form."""
        spoken = normalize(text, language or self.language)
        if spoken:
            self.engine_for(language).synthesize(spoken, sink)
        return spoken

    def speak(self, text: str, language: str | None = None) -> SpeechAudio:
        """Speak `text` into one buffer (blocking: call from a thread)."""
        started = time.perf_counter()
        chunks: list[bytes] = []
        first: list[float] = []

        def collect(pcm: bytes) -> bool:
            if not first:
                first.append(time.perf_counter() - started)
            chunks.append(pcm)
            return True

        spoken = self.stream(text, collect, language)
        total = time.perf_counter() - started
        return SpeechAudio(
            pcm=b"".join(chunks),
            sample_rate=self.engine_for(language).sample_rate,
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
