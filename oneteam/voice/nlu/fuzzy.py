"""One-jamo slips in known words ("불륨" for 볼륨): edit distance over jamo, limited to the home's words.

Only words of two or more syllables are corrected, only into a word of the same length that
starts with the same consonant, and only when exactly one known word is one jamo away: an
unrelated word is never pulled into the home's vocabulary. Lookup is a deletion index (every
word with one jamo left out), so a slip costs a few dictionary lookups, not a scan of the
vocabulary. Two candidates that mean the same thing (에어컨 and 에어콘, both one jamo from a
slip) count as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

_BASE, _LAST = 0xAC00, 0xD7A3
_MEDIALS, _FINALS = 21, 28


def jamo(word: str) -> str:
    """The word as initial/medial/final jamo codes (a final that is absent counts as nothing)."""
    out = []
    for ch in word:
        code = ord(ch)
        if not _BASE <= code <= _LAST:
            out.append(ch)
            continue
        index = code - _BASE
        initial, rest = divmod(index, _MEDIALS * _FINALS)
        medial, final = divmod(rest, _FINALS)
        out.append(chr(0x1100 + initial))
        out.append(chr(0x1161 + medial))
        if final:
            out.append(chr(0x11A7 + final))
    return "".join(out)


def _deletions(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def _within_one(a: str, b: str) -> bool:
    """Levenshtein distance of a and b is at most one."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def candidate_code_ok(code: str, candidate: str) -> bool:
    """One jamo apart, and the same first consonant."""
    return code[:1] == candidate[:1] and _within_one(code, candidate)


def _is_hangul(word: str) -> bool:
    return all(_BASE <= ord(ch) <= _LAST for ch in word)


class FuzzyIndex:
    """Known words, found again from a spelling one jamo away.

    `base`: an index of more known words, shared (the language's words, the same for every home):
    this one then holds only the words added to it, and answers as one index over both."""

    def __init__(
        self,
        words: Iterable[str],
        meanings: Mapping[str, object] | None = None,
        *,
        base: FuzzyIndex | None = None,
    ) -> None:
        self._meanings = meanings or {}
        """Word → what it means: two candidates that mean the same (에어컨, 에어콘) are no choice."""
        self._layers: tuple[FuzzyIndex, ...] = (self,) if base is None else (self, base)
        self._exact: dict[str, str] = {}
        deleted: dict[str, set[str]] = {}
        for word in words:
            if len(word) < 2 or not _is_hangul(word):
                continue
            code = jamo(word)
            self._exact[code] = word
            for variant in (code, *_deletions(code)):
                deleted.setdefault(variant, set()).add(word)
        # Kept as tuples: nearly every variant has one word, and a set costs four times a tuple
        # (an index per home, so this counts with many homes in one process).
        self._deleted: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in deleted.items()}

    def correct(self, word: str) -> str | None:
        """The one known word of the same length one jamo from `word`, or None."""
        if len(word) < 2 or not _is_hangul(word):
            return None
        code = jamo(word)
        for index in self._layers:
            if code in index._exact:
                return None  # already known: nothing to correct
        found: set[str] = set()
        for variant in (code, *_deletions(code)):
            for index in self._layers:
                for candidate in index._deleted.get(variant, ()):
                    # A slip keeps the word's first sound: 주면 is not a slip of 수면.
                    if len(candidate) == len(word) and candidate_code_ok(code, jamo(candidate)):
                        found.add(candidate)
        if len(found) > 1:
            meanings = [self._meanings.get(w, w) for w in sorted(found)]
            found = {min(found)} if all(m == meanings[0] for m in meanings) else found
        return found.pop() if len(found) == 1 else None


def correct_words(text: str, known: Mapping[str, object], index: FuzzyIndex, particles: Sequence[str]) -> str:
    """`text` with each unknown word (a particle after it kept) replaced by the one known word one
    jamo away ("거실 조멍 꺼" → "거실 조명 꺼"). Words are corrected before morphology because a
    misspelt word falls apart there (조멍 → 조/MM + 멍/NNG)."""
    words = text.split(" ")
    changed = False
    for position, word in enumerate(words):
        if len(word) < 2 or word in known:
            continue
        for particle in (*particles, ""):
            if particle and not word.endswith(particle):
                continue
            stem = word[: len(word) - len(particle)] if particle else word
            if len(stem) < 2 or stem in known:
                break  # a known word with its particle: nothing to correct
            corrected = index.correct(stem)
            if corrected is not None:
                words[position] = corrected + particle
                changed = True
                break
    return " ".join(words) if changed else text
