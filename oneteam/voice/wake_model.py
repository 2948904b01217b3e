"""The wake phrases of a process: how each is spelled in the speech model's words, the two grammars
that find them (stage 1 eager, stage 2 strict; see voice/wake.py for the stages) and the
language's wake data (lang/<language>/wake.yaml). One `WakeModel` is shared by every stream."""

from __future__ import annotations

import json
import logging
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
from oneteam.voice.keyword.spotter import SpotterEnsemble
from oneteam.voice.wake_syllables import (
    closure_readings,
    holds,
    opens_after_pause,
    place_mates,
    spans,
    squeezed,
)

_LOGGER = logging.getLogger(__name__)

VERIFY_TAIL = bytes(round(0.2 * SAMPLE_RATE * SAMPLE_WIDTH))
"""Silence after a window re-read by a decoder, so the decoder can end the last word."""


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
    first_stage: str = "vosk"
    """`keyword`: a keyword network trained for the phrase decides which speech stage 1 decodes;
    `vosk`: stage 1 decodes all speech."""
    keyword_threshold: float = 0.8
    """Lowest keyword-network score that hands a window to stage 1."""
    tense_onsets: tuple[int, ...] = ()
    """Onsets (Unicode order) before which an open syllable of a phrase is short and its closure is
    heard as a final stop (코뿔소 said fast: 극 뿔 소); stage 2 accepts such a reading there."""
    closure_codas: tuple[int, ...] = ()
    """The finals that closure may be heard as."""
    onset_places: tuple[tuple[int, ...], ...] = ()
    """Onsets made at one place (ㄱ ㄲ ㅋ, ...): the short syllable keeps its onset's place only."""
    onset_s: float | None = None
    """Stage 1 (first_stage vosk) reads only this much of each stretch of speech, pre-roll included:
    a wake phrase opens an utterance (it follows a pause of at least the VAD's trailing silence), so
    the rest of a long stretch is not decoded (None: all of it)."""
    keyword_confirm: float = 0.95
    """Keyword score at which stage 1's reading (at stage 2's confidence) wakes even when stage 2
    reads the phrase apart (above 1: never)."""
    syllable_min_s: float = 0.0
    """Shortest syllable with an onset consonant that the re-read a syllable at a time counts as
    heard (`holds`): shorter is the decoder's least (a frame per sound), squeezed in, not spoken."""
    vowel_min_s: float = 0.0
    """Shortest vowel-alone syllable (아) of a phrase read a syllable a word (`squeezed`)."""
    vowel_onset_pause_s: float = 0.0
    """Pause before a phrase that opens with a vowel (`opens_after_pause`)."""


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
        first_stage=str(data.get("first_stage", "vosk")),
        keyword_threshold=float(data.get("keyword_threshold", 0.8)),
        keyword_confirm=float(data.get("keyword_confirm", 0.95)),
        syllable_min_s=float(data.get("syllable_min_s", 0.0)),
        vowel_min_s=float(data.get("vowel_min_s", 0.0)),
        vowel_onset_pause_s=float(data.get("vowel_onset_pause_s", 0.0)),
        onset_s=float(data["onset_s"]) if data.get("onset_s") is not None else None,
        tense_onsets=tuple(int(c) for c in data.get("tense_onsets", ())),
        closure_codas=tuple(int(c) for c in data.get("closure_codas", ())),
        onset_places=tuple(tuple(int(c) for c in place) for place in data.get("onset_places", ())),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WakeWord:
    """One wake phrase, as the model spells it."""

    name: str
    """The phrase as the household wrote it (`원팀아`); Wyoming's model name."""
    words: tuple[str, ...]
    """The model's words for it (`원`, `팀`, `아`)."""
    syllables: tuple[str, ...] = ()
    """The phrase a syllable a word, as stage 2 may also read it (empty: the model lacks one)."""
    closing: tuple[frozenset[str], ...] = ()
    """Per syllable, the other readings stage 2 accepts there (see `closure_readings`)."""
    alike: tuple[frozenset[str], ...] = ()
    """Per syllable, what the syllable re-read may read there: the syllable, its closure readings and
    the same syllable with another onset of its place (뿔 불 풀: lax, tense and aspirated blur)."""

    @property
    def one_word(self) -> bool:
        """Whether the model spells the phrase in fewer words than it has syllables (코뿔소 is one
        word): then a word reading of it is checked against a reading a syllable at a time."""
        return bool(self.syllables) and len(self.words) < len(self.syllables)


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
        first_stage: str | None = None,
    ) -> None:
        data = settings or wake_language(language)
        self.model = model
        self.settings = data
        self.threshold = data.threshold if threshold is None else threshold
        self.verify_threshold = data.verify_threshold
        self.words = tuple(self._spell(p) for p in (phrases or [data.default_phrase]))
        stage = first_stage or data.first_stage
        if stage not in ("keyword", "vosk"):
            raise ValueError(f"first stage {stage!r}: keyword or vosk")
        self.spotters: tuple[SpotterEnsemble, ...] = ()
        """The keyword networks (one per phrase); empty when stage 1 decodes all speech."""
        if stage == "keyword":
            from oneteam.voice.keyword.enroll import enrolled_spotter
            from oneteam.voice.keyword.train import trained_spotter

            self.spotters = tuple(
                enrolled_spotter(wake.name) or trained_spotter(wake.name) for wake in self.words
            )
        exclude = "".join(word for wake in self.words for word in wake.words)
        spelled = [" ".join(wake.words) for wake in self.words]
        garbage = garbage_syllables(model.is_known, data.garbage_codas, exclude)
        self._grammar = json.dumps(spelled + garbage, ensure_ascii=False)
        strict = garbage_syllables(model.is_known, data.verify_codas, exclude)
        self._verify_grammar = json.dumps(spelled + strict, ensure_ascii=False)
        # A phrase the model knows as one word (코뿔소, 빅스비) or with a short syllable before a
        # tense onset is re-read once more, a syllable at a time (see `verify`). A separate read, not
        # a second spelling in one grammar: two spellings of the same audio split the decoder's
        # confidence (빅스비 fell below the threshold so).
        closing = [" ".join(w.syllables) for w in self.words if any(w.closing) or w.one_word]
        self._closure_grammar = json.dumps(closing + strict, ensure_ascii=False) if closing else None
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
        syllables = [ch for ch in phrase if "가" <= ch <= "힣"]
        if not all(self.model.is_known(ch) for ch in syllables):
            return WakeWord(name=phrase, words=tuple(words))
        closing = tuple(
            closure_readings(ch, after, self.settings)
            for ch, after in zip(syllables, [*syllables[1:], ""], strict=True)
        )
        alike = tuple(
            frozenset({ch, *place_mates(ch, self.settings)}) | c
            for ch, c in zip(syllables, closing, strict=True)
        )
        return WakeWord(
            name=phrase, words=tuple(words), syllables=tuple(syllables), closing=closing, alike=alike
        )

    @property
    def names(self) -> list[str]:
        """The phrases as written."""
        return [wake.name for wake in self.words]

    def recognizer(self, *, verify: bool = False, grammar: str | None = None) -> Any:
        """A fresh Kaldi recogniser over the stage 1 (or, `verify`, the stage 2) wake grammar."""
        import vosk

        grammar = grammar or (self._verify_grammar if verify else self._grammar)
        kaldi = vosk.KaldiRecognizer(self.model.handle, float(SAMPLE_RATE), grammar)
        kaldi.SetWords(True)
        return kaldi

    def find(
        self,
        words: Sequence[dict[str, Any]],
        offset_s: float,
        threshold: float | None = None,
        *,
        closure: bool = False,
        timed: bool = False,
    ) -> Detection | None:
        """The first phrase among Vosk's result words at or above the threshold (`closure`: a short
        syllable before a tense onset may be read with a final stop, see `closure_readings`;
        `timed`: the reading's times must also be those of speech, see `_plausible`)."""
        floor = self.threshold if threshold is None else threshold
        spoken = [str(w.get("word", "")) for w in words]
        for wake, i, size in spans(spoken, self.words, closure=closure):
            span = words[i : i + size]
            confidence = min(float(w.get("conf", 0.0)) for w in span)
            if confidence >= floor and timed and not self._plausible(wake, words, i):
                continue
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
        """Stage 2: the phrase re-read in a short window of audio by the stricter grammar.

        A phrase the model knows as one word costs the decoder one word where the garbage that
        competes with it costs one per syllable, so the word takes in short speech of roughly its
        sounds (eSpeak's 쾌속 and "confirm" were read 코뿔소 at 1.0). Its word reading therefore
        counts only when the re-read a syllable at a time, where each syllable meets its
        competitors on equal terms, hears the phrase's syllables in the same stretch (`holds`).
        When the word is turned down, that re-read alone may confirm a phrase with a short
        syllable before a tense onset (closure readings, see `closure_readings`)."""
        words = self._read(self._verify_grammar, pcm)
        found = self.find(words, offset_s, self.verify_threshold, timed=True)
        if self._closure_grammar is None:
            return found
        wake = next((w for w in self.words if found is not None and w.name == found.name), None)
        if found is not None and (wake is None or not wake.one_word):
            return found
        if found is None and not any(any(w.closing) for w in self.words):
            return None
        syllables = self._read(self._closure_grammar, pcm)
        if found is not None and wake is not None:
            start, end = found.start_s - offset_s, found.end_s - offset_s
            if holds(wake, syllables, start, end, min_s=self.settings.syllable_min_s):
                return found
            _LOGGER.debug("wake: %s read as a word, not a syllable at a time", wake.name)
            return None
        return self.find(syllables, offset_s, self.verify_threshold, closure=True)

    def _plausible(self, wake: WakeWord, words: Sequence[dict[str, Any]], first: int) -> bool:
        """Whether stage 2's word reading of `wake` from `words[first]` has the times of the phrase
        said: it opens after a pause when it opens with a vowel (`opens_after_pause`), and, read a
        syllable a word (원 팀 아), no syllable was squeezed in (`squeezed`)."""
        data = self.settings
        if not opens_after_pause(wake, words, first, pause_s=data.vowel_onset_pause_s):
            _LOGGER.debug("wake: %s read straight after other speech", wake.name)
            return False
        size = len(wake.words)
        if wake.one_word or size != len(wake.syllables):
            return True
        span = words[first : first + size]
        if squeezed(wake, span, onset_min_s=data.syllable_min_s, vowel_min_s=data.vowel_min_s):
            _LOGGER.debug("wake: %s read with a syllable squeezed in", wake.name)
            return False
        return True

    def _read(self, grammar: str, pcm: bytes) -> list[dict[str, Any]]:
        """The words a fresh decoder over `grammar` reads in `pcm`."""
        kaldi = self.recognizer(grammar=grammar)
        kaldi.AcceptWaveform(pcm + VERIFY_TAIL)
        result: list[dict[str, Any]] = json.loads(kaldi.FinalResult()).get("result", [])
        return result

    def agree(self, heard: Detection, keyword_score: float) -> bool:
        """Whether the keyword network and stage 1 are both sure enough to wake without stage 2.

        Stage 2's stricter garbage (ㄱ-final syllables) is there to turn down what stage 1 alone
        proposes, but it also takes a fast phrase apart where a syllable meets a tense consonant
        (코뿔소 said quickly is heard 극 프 쏘: the closure before ㅃ sounds like a final ㄱ). The keyword
        network is a second, independent judge of the same audio: when it is as sure as
        `keyword_confirm` and stage 1 read the phrase at stage 2's confidence, they wake together."""
        confirm = self.settings.keyword_confirm
        return confirm <= 1.0 and keyword_score >= confirm and heard.confidence >= self.verify_threshold

    def locate(self, pcm: bytes) -> Detection | None:
        """Where stage 1's grammar reads a phrase in a recording, at any confidence (enrolment)."""
        kaldi = self.recognizer()
        kaldi.AcceptWaveform(pcm + VERIFY_TAIL)
        return self.find(json.loads(kaldi.FinalResult()).get("result", []), 0.0, 0.0)

    def in_partial(self, partial: str) -> bool:
        """Whether a partial reading already holds a phrase (then the segment is closed early)."""
        spoken = f" {partial} "
        return any(f" {' '.join(wake.words)} " in spoken for wake in self.words)
