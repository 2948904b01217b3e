"""The home-biased recognition grammar: the phrases a person uses to talk to this home.

Vosk's grammar mode restricts decoding to a list of phrases (any sequence of them), which makes
short commands far more reliable than free-form decoding over a 500k-word vocabulary. The phrases
come from the home (device, room, mode, fan-speed and compartment names) and from the language
data (verbs, numbers, units, endings), never from test sentences. `[unk]` is listed so that, with
a model that has it, speech outside the grammar becomes `[unk]` instead of being forced onto a
command word. The packaged Korean model has no `[unk]`, so a loop of single Hangul syllables that
are no command word stands in for it (`garbage_syllables`): speech the grammar does not cover comes
out as such syllables, and asr.py then hands the utterance to free-form decoding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from oneteam.model import Home
from oneteam.voice.normalize import normalize

_LOGGER = logging.getLogger(__name__)

UNKNOWN_WORD = "[unk]"
_WORD = re.compile(r"[\w가-힣]+")
_HANGUL_OR_LATIN = re.compile(r"[가-힣A-Za-z]")
_MAX_PIECES = 4
"""A name split into more than this many vocabulary pieces is noise, not a name."""
_HANGUL_BASE = 0xAC00
_ONSETS, _VOWELS, _CODAS = 19, 21, 28


def garbage_codas(language: str = "ko") -> tuple[int, ...]:
    """The codas whose syllables make the command grammar's garbage loop (speech.yaml)."""
    path = resources.files("oneteam.voice") / "lang" / language / "speech.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(int(c) for c in data.get("garbage_codas", ()))


def garbage_syllables(
    is_known: Callable[[str], bool], codas: Iterable[int], exclude: Iterable[str] = ()
) -> list[str]:
    """Single-syllable words the model knows, from every onset and vowel and these codas (Unicode
    order: 0 none, 1 ㄱ, 4 ㄴ, 8 ㄹ, 16 ㅁ, 17 ㅂ, 21 ㅇ), minus `exclude`."""
    skip = set(exclude)
    syllables: list[str] = []
    for onset in range(_ONSETS):
        for vowel in range(_VOWELS):
            for coda in codas:
                syllable = chr(_HANGUL_BASE + (onset * _VOWELS + vowel) * _CODAS + coda)
                if syllable not in skip and is_known(syllable):
                    syllables.append(syllable)
    return syllables


@dataclass(frozen=True, slots=True, kw_only=True)
class Grammar:
    """Phrases for Vosk's grammar mode, and what could not be expressed."""

    phrases: tuple[str, ...]
    """Space-separated word sequences, each a path the decoder may take (`[unk]` included)."""
    dropped: tuple[str, ...] = ()
    """Words the model's vocabulary could not spell, even in pieces."""

    @property
    def words(self) -> frozenset[str]:
        """Every single word any phrase uses."""
        return frozenset(word for phrase in self.phrases for word in phrase.split())


def home_names(home: Home) -> list[str]:
    """Everything a person may call a place or thing of this home."""
    names: list[str] = []
    for room in home.rooms.values():
        names.extend(room.names)
    for device in home.devices.values():
        names.extend(device.names)
    for by_mode in home.mode_names.values():
        for mode_names in by_mode.values():
            names.extend(mode_names)
    for table in (home.fan_speed_names, home.compartment_names):
        for spoken in table.values():
            names.extend(spoken)
    return names


def speech_vocabulary(language: str = "ko", nlu_dir: Path | None = None) -> list[str]:
    """Command words for `language`: this room's speech.yaml plus the NLU's language YAML when present."""
    folder = resources.files("oneteam.voice") / "lang" / language
    words: list[str] = []
    speech_file = folder / "speech.yaml"
    if speech_file.is_file():
        words.extend(_strings(yaml.safe_load(speech_file.read_text(encoding="utf-8"))))
    nlu_folder = nlu_dir or Path(str(resources.files("oneteam.voice"))) / "nlu" / "lang" / language
    if nlu_folder.is_dir():
        for path in sorted(nlu_folder.glob("*.yaml")):
            # The NLU's own format may change; only its words matter here, keys and values alike.
            words.extend(_strings(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return [word for word in dict.fromkeys(words) if _is_spoken(word)]


def _is_spoken(word: str) -> bool:
    """Korean words and capitalised names (TV); YAML keys such as `air_conditioner` are ids, not speech."""
    if not _HANGUL_OR_LATIN.search(word):
        return False
    return not (word.isascii() and (word.lower() == word or "_" in word))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def build_grammar(
    home: Home, vocabulary: Iterable[str], is_known: Callable[[str], bool] | None = None
) -> Grammar:
    """The grammar for `home`: its names as phrases, the vocabulary as phrases, `[unk]` for the rest.

    `is_known` says whether the recogniser's vocabulary has a word; words it lacks are split into
    known pieces (`퓨리케어` → `퓨리 케어`) or dropped. Without it every word is kept as written.
    """
    phrases: dict[str, None] = {}
    dropped: dict[str, None] = {}
    for text in [*home_names(home), *vocabulary]:
        spoken = _spell(text, is_known)
        if spoken is None:
            dropped[text] = None
            continue
        phrases[spoken] = None
        # Each word of a name alone too: people say "에어컨" for "거실 에어컨".
        for word in spoken.split():
            phrases[word] = None
    phrases[UNKNOWN_WORD] = None
    if dropped:
        _LOGGER.info("grammar: %d words the model cannot spell were left out", len(dropped))
    return Grammar(phrases=tuple(phrases), dropped=tuple(dropped))


def _spell(text: str, is_known: Callable[[str], bool] | None) -> str | None:
    """The text as words the model knows, or None when some word cannot be spelled."""
    # Written numbers become words first: "1단" is said "일 단".
    words = _WORD.findall(normalize(text))
    if not words:
        return None
    if is_known is None:
        return " ".join(words)
    spelled: list[str] = []
    for word in words:
        pieces = split_known(word, is_known)
        if pieces is None:
            return None
        spelled.extend(pieces)
    return " ".join(spelled)


def split_known(word: str, is_known: Callable[[str], bool]) -> list[str] | None:
    """The word as the fewest known pieces (`코드제로` → `코드 제로`), or None."""
    if is_known(word):
        return [word]
    # best[i]: fewest pieces spelling word[:i]; short words make this table tiny.
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            prefix = best[start]
            piece = word[start:end]
            if prefix is None or not is_known(piece):
                continue
            candidate = [*prefix, piece]
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    result = best[len(word)]
    return result if result is not None and len(result) <= _MAX_PIECES else None
