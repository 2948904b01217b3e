"""How a wake phrase's Korean syllables may be heard: the closure readings before a tense onset, the
onsets of one place, and the checks on a timed reading (syllables the grammar squeezed in, a phrase
that opens with a vowel straight after other speech). Used by stage 2 (voice/wake_model.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar


class WakeLanguage(Protocol):
    """The language's wake data these checks read (voice/wake_model.py's WakeLanguage)."""

    @property
    def tense_onsets(self) -> tuple[int, ...]: ...
    @property
    def closure_codas(self) -> tuple[int, ...]: ...
    @property
    def onset_places(self) -> tuple[tuple[int, ...], ...]: ...


class WakeWord(Protocol):
    """A phrase's syllables and what may be read in their place (voice/wake_model.py's WakeWord)."""

    @property
    def syllables(self) -> tuple[str, ...]: ...
    @property
    def closing(self) -> tuple[frozenset[str], ...]: ...
    @property
    def alike(self) -> tuple[frozenset[str], ...]: ...
    @property
    def words(self) -> tuple[str, ...]: ...


Wake = TypeVar("Wake", bound=WakeWord)


_HANGUL_BASE, _VOWELS, _CODAS = 0xAC00, 21, 28
_NO_ONSET = 11  # ㅇ as an onset: the syllable starts with its vowel


def onset(syllable: str) -> int:
    """The onset's index (Unicode order) of a Hangul syllable."""
    return (ord(syllable) - _HANGUL_BASE) // (_VOWELS * _CODAS)


def closure_readings(word: str, after: str, data: WakeLanguage) -> frozenset[str]:
    """What stage 2 may read in place of an open syllable `word` that precedes a tense onset.

    Before ㄲ ㄸ ㅃ ㅆ ㅉ a Korean vowel is short and the tense consonant's long closure starts in it,
    so the decoder hears the syllable as one ending in a stop (코 in 코뿔소 said fast: 극, 국, 곡) with
    an unsure vowel; only its onset's place stays. Those readings are accepted there and nowhere
    else: a phrase without a tense onset (원팀아) is matched as spelled."""
    if len(word) != 1 or not after or not data.tense_onsets:
        return frozenset()
    code, next_code = ord(word) - _HANGUL_BASE, ord(after[0]) - _HANGUL_BASE
    if not (0 <= code < 11172 and 0 <= next_code < 11172) or code % _CODAS:
        return frozenset()
    if next_code // (_VOWELS * _CODAS) not in data.tense_onsets:
        return frozenset()
    onset = code // (_VOWELS * _CODAS)
    place = next((p for p in data.onset_places if onset in p), (onset,))
    return frozenset(
        chr(_HANGUL_BASE + (o * _VOWELS + v) * _CODAS + c)
        for o in place
        for v in range(_VOWELS)
        for c in data.closure_codas
    )


def place_mates(word: str, data: WakeLanguage) -> frozenset[str]:
    """The syllable `word` with each other onset made at its onset's place (뿔: 불 풀), same vowel
    and final: the decoder often hears a lax, tense or aspirated onset as another of its place."""
    code = ord(word) - _HANGUL_BASE if len(word) == 1 else -1
    if not 0 <= code < 11172:
        return frozenset()
    onset, rest = divmod(code, _VOWELS * _CODAS)
    place = next((p for p in data.onset_places if onset in p), (onset,))
    return frozenset(chr(_HANGUL_BASE + o * _VOWELS * _CODAS + rest) for o in place if o != onset)


def holds(
    wake: WakeWord, words: Sequence[dict[str, Any]], start_s: float, end_s: float, *, min_s: float = 0.0
) -> bool:
    """Whether the syllable re-read hears `wake`'s syllables, in order, among the words it reads
    over `start_s`..`end_s` (where the word reading put the phrase; the two readings place the
    edges a little differently). A syllable with an onset consonant must last `min_s`: eSpeak's
    "사 다" was read 빅 스 비 with a 60 ms 스, two frames, the decoder's least for two sounds, squeezed
    in by the grammar (the real 빅스비's 스 lasts 210 ms); a vowel alone (이 in 아이) is one sound
    and glides from the vowel before, so two frames are not its least. Only a short syllable before
    a tense onset may go unheard: the tense consonant's long closure swallows it (코 in 코뿔소)."""
    heard = [
        (str(w.get("word", "")), float(w.get("end", 0.0)) - float(w.get("start", 0.0)))
        for w in words
        if float(w.get("end", 0.0)) > start_s and float(w.get("start", 0.0)) < end_s
    ]
    short_ok = [bool(c) or onset(s) == _NO_ONSET for s, c in zip(wake.syllables, wake.closing, strict=True)]
    for first in range(len(heard)):
        at = first
        for alike, closing, short in zip(wake.alike, wake.closing, short_ok, strict=True):
            if at < len(heard) and heard[at][0] in alike and (short or heard[at][1] >= min_s):
                at += 1
            elif not closing:
                break
        else:
            if at > first:
                return True
    return False


def spans(spoken: Sequence[str], wakes: Sequence[Wake], *, closure: bool) -> list[tuple[Wake, int, int]]:
    """(phrase, first word, word count) of each place the words hold a phrase: as spelled, or with
    `closure` a syllable at a time with the closure readings accepted."""
    found: list[tuple[Wake, int, int]] = []
    for wake in wakes:
        forms: list[tuple[tuple[str, ...], tuple[frozenset[str], ...]]] = [(wake.words, ())] + (
            [(wake.syllables, wake.closing)] if closure and any(wake.closing) else []
        )
        for form, closing in forms:
            size = len(form)
            for i in range(len(spoken) - size + 1):
                window = spoken[i : i + size]
                if tuple(window) == form or (
                    closing and all(h == w or h in c for h, w, c in zip(window, form, closing, strict=True))
                ):
                    found.append((wake, i, size))
    return found


def squeezed(
    wake: WakeWord, words: Sequence[dict[str, Any]], *, onset_min_s: float, vowel_min_s: float
) -> bool:
    """Whether a phrase read a syllable a word (`words`, one per syllable) has a syllable the grammar
    squeezed in: shorter than the decoder's least for it, as `holds` judges the syllable re-read (a
    syllable with an onset consonant under `onset_min_s`, a vowel alone under `vowel_min_s`). A vowel
    alone read in one 30 ms frame is the decoder's least for one sound: eSpeak's "ONETEAM_CLUSTER"
    was read 원 팀 아 with a one-frame 아 (the C), and the vocative 아 that calls is never that short."""
    for syllable, word in zip(wake.syllables, words, strict=True):
        seconds = float(word.get("end", 0.0)) - float(word.get("start", 0.0))
        code = ord(syllable) - _HANGUL_BASE
        least = onset_min_s if onset(syllable) != _NO_ONSET else vowel_min_s if code % _CODAS == 0 else 0.0
        if seconds < least:
            return True
    return False


def opens_after_pause(wake: WakeWord, words: Sequence[dict[str, Any]], first: int, *, pause_s: float) -> bool:
    """Whether the phrase that starts at `words[first]` may open there: a phrase whose first syllable
    has no onset consonant (원팀아, 아이스크림) counts only when no word was read in the `pause_s` before it.
    With no consonant to mark where it begins, a vowel straight after other speech carries on that
    speech (위험 → 원, 지원하지 → 원 팀 아): the decoder places the phrase's start anywhere in it. A
    silence shorter than a stop's closure (~0.1 s) is no pause: it occurs inside running speech."""
    if not wake.syllables or onset(wake.syllables[0]) != _NO_ONSET or first == 0 or pause_s <= 0.0:
        return True
    gap = float(words[first].get("start", 0.0)) - float(words[first - 1].get("end", 0.0))
    return gap >= pause_s
