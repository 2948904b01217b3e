"""Wake word: a Korean phrase heard on the live stream, offline, with the packaged Vosk model.

No Korean wake-word model ships in a package, so the phrase is found by the speech model itself in
a tiny grammar: the phrase (spelled in words the model knows: 원팀아 → 원 팀 아) competes with a
"garbage" loop of single Hangul syllables (lang/<language>/wake.yaml says which). Anything that is
not the phrase is absorbed by syllables; the phrase wins only where it fits the sound better than
any syllable string, and its words must then reach a confidence threshold. Silero VAD gates the
decoder, so silence and noise cost only the VAD's small network. The decoder's own endpoint, the
end of voice activity, or a partial reading that already holds the phrase closes a segment; the
audio after the phrase is kept so a command said in the same breath reaches the command recogniser.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.model import OneteamError
from oneteam.voice.asr import VoskModel
from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.grammar import garbage_syllables, split_known
from oneteam.voice.vad import SpeechDetector, VadSettings

_LOGGER = logging.getLogger(__name__)

WAKE_PHRASE_ENV = "ONETEAM_WAKE_PHRASE"
"""Comma-separated wake phrases a household chose (the language's default otherwise)."""

_WINDOW_BYTES = 512 * SAMPLE_WIDTH
_BYTES_PER_S = SAMPLE_RATE * SAMPLE_WIDTH
_KEEP_S = 12.0
"""Recent audio kept, so the speech after a detected phrase can be handed on."""

WAKE_VAD = VadSettings(
    threshold=0.5,
    trailing_silence_s=0.3,
    min_speech_s=0.1,
    pre_roll_s=0.3,
    max_utterance_s=6.0,
    energy_floor_dbfs=-60.0,
)
"""A wake phrase is short: segments end after a brief pause, a long stretch (a TV) is cut, and a
quiet room does not even run the voice-activity network."""


class BadWakePhrase(OneteamError):
    """The wake phrase cannot be spelled in the speech model's words."""

    key = "error.voice.bad_wake_phrase"

    def __init__(self, phrase: str) -> None:
        super().__init__(
            f"the wake phrase {phrase!r} cannot be recognised by the speech model", phrase=phrase
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeLanguage:
    """A language's wake data (lang/<language>/wake.yaml)."""

    default_phrase: str
    garbage_codas: tuple[int, ...]
    threshold: float


@cache
def wake_language(language: str = "ko") -> WakeLanguage:
    """The wake data of `language` (loaded once)."""
    path = resources.files("oneteam.voice") / "lang" / language / "wake.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return WakeLanguage(
        default_phrase=str(data["default_phrase"]),
        garbage_codas=tuple(int(c) for c in data["garbage_codas"]),
        threshold=float(data["threshold"]),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeWord:
    """One wake phrase, as the model spells it."""

    name: str
    """The phrase as the household wrote it (`원팀아`); Wyoming's model name."""
    words: tuple[str, ...]
    """The model's words for it (`원`, `팀`, `아`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Detection:
    """A wake phrase heard on the stream."""

    name: str
    confidence: float
    """The lowest word confidence of the phrase."""
    start_s: float
    end_s: float
    """Stream time (seconds since the stream began) of the phrase."""


class WakeModel:
    """The phrases and their grammar over the shared model; one per process, shared by streams."""

    def __init__(
        self,
        model: VoskModel,
        phrases: Sequence[str] | None = None,
        *,
        threshold: float | None = None,
        language: str = "ko",
    ) -> None:
        data = wake_language(language)
        self.model = model
        self.threshold = data.threshold if threshold is None else threshold
        self.words = tuple(self._spell(p) for p in (phrases or [data.default_phrase]))
        exclude = "".join(word for wake in self.words for word in wake.words)
        garbage = garbage_syllables(model.is_known, data.garbage_codas, exclude)
        phrases_json = [" ".join(wake.words) for wake in self.words] + garbage
        self._grammar = json.dumps(phrases_json, ensure_ascii=False)
        _LOGGER.info("wake: %s against %d garbage syllables", [w.name for w in self.words], len(garbage))

    def _spell(self, phrase: str) -> WakeWord:
        words: list[str] = []
        for part in phrase.split():
            pieces = split_known(part, self.model.is_known)
            if pieces is None:
                raise BadWakePhrase(phrase)
            words.extend(pieces)
        if not words:
            raise BadWakePhrase(phrase)
        return WakeWord(name=phrase, words=tuple(words))

    @property
    def names(self) -> list[str]:
        """The phrases as written."""
        return [wake.name for wake in self.words]

    def recognizer(self) -> Any:
        """A fresh Kaldi recogniser over the wake grammar."""
        import vosk

        kaldi = vosk.KaldiRecognizer(self.model.handle, float(SAMPLE_RATE), self._grammar)
        kaldi.SetWords(True)
        return kaldi

    def find(self, words: Sequence[dict[str, Any]], offset_s: float) -> Detection | None:
        """The first phrase among Vosk's result words at or above the threshold."""
        spoken = [str(w.get("word", "")) for w in words]
        for wake in self.words:
            size = len(wake.words)
            for i in range(len(spoken) - size + 1):
                if tuple(spoken[i : i + size]) != wake.words:
                    continue
                span = words[i : i + size]
                confidence = min(float(w.get("conf", 0.0)) for w in span)
                if confidence >= self.threshold:
                    return Detection(
                        name=wake.name,
                        confidence=confidence,
                        start_s=offset_s + float(span[0]["start"]),
                        end_s=offset_s + float(span[-1]["end"]),
                    )
                _LOGGER.debug("wake: %s heard at confidence %.2f, below threshold", wake.name, confidence)
        return None

    def in_partial(self, partial: str) -> bool:
        """Whether a partial reading already holds a phrase (then the segment is closed early)."""
        spoken = f" {partial} "
        return any(f" {' '.join(wake.words)} " in spoken for wake in self.words)


class WakeDetector:
    """One live stream: feed 16 kHz 16-bit mono PCM, get detections (blocking: call from a thread)."""

    def __init__(self, wake: WakeModel, vad: VadSettings = WAKE_VAD) -> None:
        self.wake = wake
        self._vad = SpeechDetector(vad)
        self._kaldi: Any = wake.recognizer()
        self._open = False
        """A segment of speech is being decoded."""
        self._segment_start = 0
        """Stream byte offset where the current recogniser's audio began."""
        self._position = 0
        """Stream bytes seen so far."""
        self._pending = b""
        self._recent: deque[bytes] = deque(maxlen=round(_KEEP_S * _BYTES_PER_S / _WINDOW_BYTES))
        self._recent_start = 0
        self.decoded_s = 0.0
        """Seconds of audio the recogniser decoded (the rest was gated out by voice activity)."""

    @property
    def position_s(self) -> float:
        """Seconds of audio fed so far."""
        return self._position / _BYTES_PER_S

    def feed(self, pcm: bytes) -> list[Detection]:
        """Feed audio; the phrases detected in it."""
        data = self._pending + pcm
        whole = len(data) // _WINDOW_BYTES * _WINDOW_BYTES
        self._pending = data[whole:]
        found: list[Detection] = []
        for start in range(0, whole, _WINDOW_BYTES):
            detection = self._window(data[start : start + _WINDOW_BYTES])
            if detection is not None:
                found.append(detection)
        return found

    def finish(self) -> list[Detection]:
        """The stream has ended: decide on the open segment."""
        if not self._open:
            return []
        detection = self._close(json.loads(self._kaldi.FinalResult()))
        self._open = False
        return [detection] if detection is not None else []

    def audio_after(self, stream_s: float) -> bytes:
        """The kept audio from stream time `stream_s` on (what followed a detected phrase)."""
        kept = b"".join(self._recent)
        begin = self._position - len(kept)
        offset = max(0, round(stream_s * SAMPLE_RATE) * SAMPLE_WIDTH - begin)
        return kept[offset:]

    def reset(self) -> None:
        """Drop the open segment (after a detection, while a command is being heard)."""
        if self._open:
            self._kaldi.Reset()
        self._open = False
        self._vad.reset()

    def _window(self, window: bytes) -> Detection | None:
        self._recent.append(window)
        self._position += len(window)
        events = self._vad.process(window)
        if not self._open:
            if not self._vad.in_speech:
                return None
            # Speech began: the first event carries the pre-roll, which starts before this window.
            audio = b"".join(e.audio for e in events)
            self._open = True
            self._segment_start = self._position - len(audio)
            return self._decode(audio)
        detection = self._decode(b"".join(e.audio for e in events))
        if detection is None and self._vad.ended and self._open:
            detection = self._close(json.loads(self._kaldi.FinalResult()))
            self._open = False
            self._vad.reset()
        return detection

    def _decode(self, audio: bytes) -> Detection | None:
        if not audio:
            return None
        self.decoded_s += len(audio) / _BYTES_PER_S
        if self._kaldi.AcceptWaveform(audio):
            detection = self._close(json.loads(self._kaldi.Result()))
            self._segment_start = self._position
            return detection
        partial = str(json.loads(self._kaldi.PartialResult()).get("partial", ""))
        if self.wake.in_partial(partial):
            # The phrase is in the partial reading: close now for its confidence and timing.
            detection = self._close(json.loads(self._kaldi.FinalResult()))
            self._segment_start = self._position
            return detection
        return None

    def _close(self, result: dict[str, Any]) -> Detection | None:
        return self.wake.find(result.get("result", []), self._segment_start / _BYTES_PER_S)
