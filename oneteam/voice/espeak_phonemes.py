"""Pronounced Hangul (pronounce.py) → eSpeak NG Korean phoneme mnemonics, for what spelling cannot
say: eSpeak voices a word-initial lenis stop (거실 → [g]əsil) where Korean has a voiceless one, and
reads an intervocalic ㄱ as its coda sound. Each run of Hangul words becomes one `[[...]]` span
(eSpeak's phoneme input); punctuation and other text stay outside, so clauses and pauses are
eSpeak's own. The names live in lang/<language>/espeak_phonemes.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.voice.pronounce import Syllable

__all__ = ["espeak_phonemes"]

_HANGUL_RUN = re.compile(r"[가-힣]+(?:\s+[가-힣]+)*")


@dataclass(frozen=True, slots=True)
class _Names:
    onsets: dict[str, str]
    lenis: dict[str, tuple[str, str]]
    liquid: dict[str, str]
    vowels: dict[str, str]
    codas: dict[str, str]
    voiced_codas: frozenset[str]


@cache
def _names(language: str) -> _Names:
    path = resources.files("oneteam.voice") / "lang" / language / "espeak_phonemes.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return _Names(
        onsets=data["onsets"],
        lenis={jamo: (pair[0], pair[1]) for jamo, pair in data["lenis"].items()},
        liquid=data["liquid"],
        vowels=data["vowels"],
        codas=data["codas"],
        voiced_codas=frozenset(data["voiced_codas"]),
    )


def espeak_phonemes(text: str, language: str = "ko") -> str:
    """`text` (pronounced Hangul) with each run of Hangul words as eSpeak `[[...]]` phonemes."""
    names = _names(language)
    return _HANGUL_RUN.sub(lambda m: f"[[{_run(m.group(0), names)}]]", text)


def _run(words: str, names: _Names) -> str:
    out: list[str] = []
    for word in words.split():
        syllables = [s for char in word if (s := Syllable.of(char)) is not None]
        sounds: list[str] = []
        previous: Syllable | None = None
        for syllable in syllables:
            sounds.append(_onset(syllable.onset, previous, names) + names.vowels[syllable.vowel])
            sounds.append(names.codas[syllable.coda])
            previous = syllable
        out.append("".join(sounds))
    return " ".join(out)


def _onset(onset: str, previous: Syllable | None, names: _Names) -> str:
    """The onset's name: lenis stops voiced only between voiced sounds, ㄹ flapped or lateral."""
    if onset in names.lenis:
        voiceless, voiced = names.lenis[onset]
        voicing = previous is not None and (not previous.coda or previous.coda in names.voiced_codas)
        return voiced if voicing else voiceless
    if onset == "ㄹ":
        return names.liquid["after_l" if previous is not None and previous.coda == "ㄹ" else "onset"]
    return names.onsets[onset]
