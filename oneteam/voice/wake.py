"""Wake word: a Korean phrase heard on the live stream, offline, with the packaged Vosk model.

No Korean wake-word model ships in a package, so the phrase is found by the speech model itself in
a tiny grammar: the phrase (spelled in words the model knows: 원팀아 → 원 팀 아) competes with a
"garbage" loop of single Hangul syllables (lang/<language>/wake.yaml says which). Two stages:

1. Silero VAD gates a decoder whose garbage is small (open syllables only): cheap on every speech
   frame and eager, so a real phrase is rarely lost; a phrase it reads is only a candidate.
2. The candidate's own stretch of audio (kept, with a little either side) is re-read by a stricter
   grammar (syllables ending in ㄱ too): only when the phrase wins there as well, at a higher
   confidence, does the stream wake. This runs per candidate, not per frame.

The decoder's own endpoint, the end of voice activity, or a partial reading that already holds the
phrase closes a segment; the audio after the phrase is kept so a command said in the same breath
reaches the command recogniser.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
_DECODE_BYTES = round(0.25 * _BYTES_PER_S)
"""Speech is decoded in quarter-second batches: a partial reading per VAD window (32 ms) cost more
than the decoding itself."""
_VERIFY_LEAD_S = 0.3
_VERIFY_LAG_S = 0.3
"""Stage 2 re-reads the candidate phrase with this much audio either side of it."""
_VERIFY_TAIL = bytes(round(0.2 * _BYTES_PER_S))
"""Silence after the window, so the decoder can end the last word."""

WAKE_VAD = VadSettings(
    threshold=0.5,
    trailing_silence_s=0.3,
    min_speech_s=0.1,
    pre_roll_s=0.6,
    max_utterance_s=6.0,
    energy_floor_dbfs=-60.0,
)
"""A wake phrase is short: segments end after a brief pause, a long stretch (a TV) is cut, and a
quiet room does not even run the voice-activity network. The VAD calls a plosive onset (코뿔소's 코)
speech late: 0.6 s of pre-roll gives the decoder the phrase's start (0.3 s lost a real 코뿔소)."""


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
    """Codas of stage 1's garbage syllables (the decoder that runs on all speech)."""
    threshold: float
    """Stage 1: lowest word confidence of a candidate."""
    verify_codas: tuple[int, ...]
    """Codas of stage 2's garbage syllables (the stricter decoder that re-reads a candidate)."""
    verify_threshold: float
    """Stage 2: lowest word confidence that confirms a candidate."""


@cache
def wake_language(language: str = "ko") -> WakeLanguage:
    """The wake data of `language` (loaded once)."""
    path = resources.files("oneteam.voice") / "lang" / language / "wake.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return WakeLanguage(
        default_phrase=str(data["default_phrase"]),
        garbage_codas=tuple(int(c) for c in data["garbage_codas"]),
        threshold=float(data["threshold"]),
        verify_codas=tuple(int(c) for c in data["verify_codas"]),
        verify_threshold=float(data["verify_threshold"]),
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
    """The phrases and their two grammars over the shared model; one per process, shared by streams."""

    def __init__(
        self,
        model: VoskModel,
        phrases: Sequence[str] | None = None,
        *,
        threshold: float | None = None,
        language: str = "ko",
        settings: WakeLanguage | None = None,
    ) -> None:
        data = settings or wake_language(language)
        self.model = model
        self.settings = data
        self.threshold = data.threshold if threshold is None else threshold
        self.verify_threshold = data.verify_threshold
        self.words = tuple(self._spell(p) for p in (phrases or [data.default_phrase]))
        exclude = "".join(word for wake in self.words for word in wake.words)
        spelled = [" ".join(wake.words) for wake in self.words]
        garbage = garbage_syllables(model.is_known, data.garbage_codas, exclude)
        self._grammar = json.dumps(spelled + garbage, ensure_ascii=False)
        strict = garbage_syllables(model.is_known, data.verify_codas, exclude)
        self._verify_grammar = json.dumps(spelled + strict, ensure_ascii=False)
        _LOGGER.info(
            "wake: %s against %d garbage syllables, verified against %d",
            [w.name for w in self.words],
            len(garbage),
            len(strict),
        )

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

    def recognizer(self, *, verify: bool = False) -> Any:
        """A fresh Kaldi recogniser over the stage 1 (or, `verify`, the stage 2) wake grammar."""
        import vosk

        grammar = self._verify_grammar if verify else self._grammar
        kaldi = vosk.KaldiRecognizer(self.model.handle, float(SAMPLE_RATE), grammar)
        kaldi.SetWords(True)
        return kaldi

    def find(
        self, words: Sequence[dict[str, Any]], offset_s: float, threshold: float | None = None
    ) -> Detection | None:
        """The first phrase among Vosk's result words at or above the threshold."""
        floor = self.threshold if threshold is None else threshold
        spoken = [str(w.get("word", "")) for w in words]
        for wake in self.words:
            size = len(wake.words)
            for i in range(len(spoken) - size + 1):
                if tuple(spoken[i : i + size]) != wake.words:
                    continue
                span = words[i : i + size]
                confidence = min(float(w.get("conf", 0.0)) for w in span)
                if confidence >= floor:
                    return Detection(
                        name=wake.name,
                        confidence=confidence,
                        start_s=offset_s + float(span[0]["start"]),
                        end_s=offset_s + float(span[-1]["end"]),
                    )
                _LOGGER.debug("wake: %s heard at confidence %.2f, below threshold", wake.name, confidence)
        return None

    def verify(self, pcm: bytes, offset_s: float) -> Detection | None:
        """Stage 2: the phrase re-read in a short window of audio by the stricter grammar."""
        kaldi = self.recognizer(verify=True)
        kaldi.AcceptWaveform(pcm + _VERIFY_TAIL)
        result = json.loads(kaldi.FinalResult())
        return self.find(result.get("result", []), offset_s, self.verify_threshold)

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
        self._fed = 0
        """Bytes handed to the decoder since it was made (its word times count these)."""
        self._runs: deque[tuple[int, int]] = deque(maxlen=64)
        """(decoder byte offset, stream byte offset) where each segment of speech began: the decoder
        sees only speech, so its times are mapped back to stream time through these."""
        self._position = 0
        """Stream bytes seen so far."""
        self._pending = b""
        self._queued = b""
        """Speech not yet handed to the decoder (it is fed in batches, not per VAD window)."""
        self._recent: deque[bytes] = deque(maxlen=round(_KEEP_S * _BYTES_PER_S / _WINDOW_BYTES))
        self.decoded_s = 0.0
        """Seconds of audio the stage 1 recogniser decoded (the rest was gated out by voice activity)."""
        self.candidates = 0
        """Stage 1 detections handed to stage 2."""

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
        detection = self._flush(final=True)
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
            self._kaldi = self.wake.recognizer()
            self._fed = 0
            self._runs.clear()
        self._open = False
        self._queued = b""
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
            self._runs.append((self._fed, self._position - len(audio)))
            self._queued = audio
            return None
        self._queued += b"".join(e.audio for e in events)
        if self._vad.ended:
            detection = self._flush(final=True)
            self._open = False
            self._vad.reset()
            return detection
        if len(self._queued) >= _DECODE_BYTES:
            return self._flush(final=False)
        return None

    def _flush(self, *, final: bool) -> Detection | None:
        """Hand the queued speech to the stage 1 decoder; a confirmed detection, if any."""
        audio, self._queued = self._queued, b""
        self.decoded_s += len(audio) / _BYTES_PER_S
        self._fed += len(audio)
        if final:
            if audio:
                self._kaldi.AcceptWaveform(audio)
            return self._candidate(json.loads(self._kaldi.FinalResult()))
        if audio and self._kaldi.AcceptWaveform(audio):
            return self._candidate(json.loads(self._kaldi.Result()))
        partial = str(json.loads(self._kaldi.PartialResult()).get("partial", ""))
        if self.wake.in_partial(partial):
            # The phrase is in the partial reading: close now for its confidence and timing.
            return self._candidate(json.loads(self._kaldi.FinalResult()))
        return None

    def _stream_s(self, decoder_s: float) -> float:
        """Stream time of a decoder time."""
        at = round(decoder_s * SAMPLE_RATE) * SAMPLE_WIDTH
        fed, stream = next(((f, s) for f, s in reversed(self._runs) if f <= at), (0, 0))
        return (stream + at - fed) / _BYTES_PER_S

    def _candidate(self, result: dict[str, Any]) -> Detection | None:
        """Stage 1's reading of a closed segment; a phrase in it is re-read by stage 2."""
        heard = self.wake.find(result.get("result", []), 0.0)
        if heard is None:
            return None
        self.candidates += 1
        found = replace(heard, start_s=self._stream_s(heard.start_s), end_s=self._stream_s(heard.end_s))
        begin_s = max(0.0, found.start_s - _VERIFY_LEAD_S)
        window = self._kept_between(begin_s, found.end_s + _VERIFY_LAG_S)
        confirmed = self.wake.verify(window, begin_s)
        _LOGGER.debug("wake: candidate %s (%.2f) %s", found.name, found.confidence, confirmed)
        return confirmed

    def _kept_between(self, begin_s: float, end_s: float) -> bytes:
        kept = b"".join(self._recent)
        first = self._position - len(kept)
        lo = max(0, round(begin_s * SAMPLE_RATE) * SAMPLE_WIDTH - first)
        hi = max(lo, round(end_s * SAMPLE_RATE) * SAMPLE_WIDTH - first)
        return kept[lo:hi]
