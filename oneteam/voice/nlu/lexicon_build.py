"""Building a `Lexicon` for one home in one language: the language YAML (`lang/<lang>/words`,
`grammar`, `numerals`, checked against its schema as it is read), the home's own names for its
devices, rooms and modes, the numeral reader and the fuzzy index of the home's nouns. The
language's part is built once per process and shared by every home's lexicon (many homes in one
process, issue #21). The lexicon's types (`Kind`, `Sense`, `Grammar`, `Lexicon`) are in
`lexicon.py`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.model import Home
from oneteam.voice.nlu.fuzzy import FuzzyIndex
from oneteam.voice.nlu.lexicon import LANGUAGES, Grammar, Kind, Lexicon, Sense, key
from oneteam.voice.nlu.numbers import NumeralReader
from oneteam.voice.nlu.schema import LanguageDataError, check

_LOGGER = logging.getLogger(__name__)


@cache
def _language_file(language: str, name: str) -> dict[str, Any]:
    """One YAML file of `lang/<language>/`, parsed once."""
    folder = resources.files("oneteam.voice.nlu") / "lang" / language
    where = f"oneteam/voice/nlu/lang/{language}/{name}.yaml"
    try:
        data = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LanguageDataError(f"{where}: not YAML ({exc})") from exc
    return check(data, name, where)


def _texts(phrases: Iterable[object], sense: Sense) -> list[str]:
    """The phrases, all text: YAML reads a bare `on`/`off`/`yes` as a boolean, which would
    silently become the word "False"; such entries must be quoted."""
    out = []
    for phrase in phrases:
        if not isinstance(phrase, str):
            raise ValueError(f"language data for {sense.kind}:{sense.value} has {phrase!r}; quote it")
        out.append(phrase)
    return out


class _Builder:
    def __init__(self, language: Mapping[str, tuple[Sense, ...]] | None = None) -> None:
        self.words: dict[str, list[Sense]] = {}
        self.lemmas: dict[str, list[Sense]] = {}
        self._language = language or {}
        """The language's phrases, shared: one is copied into `words` only when it is changed."""

    def slot(self, phrase_key: str) -> list[Sense]:
        """The senses of a phrase (by key), to change."""
        slot = self.words.get(phrase_key)
        if slot is None:
            slot = self.words[phrase_key] = list(self._language.get(phrase_key, ()))
        return slot

    def word(self, phrases: Iterable[object], sense: Sense) -> None:
        for phrase in _texts(phrases, sense):
            slot = self.slot(key(str(phrase)))
            if sense not in slot:
                slot.append(sense)

    def lemma(self, phrases: Iterable[object], sense: Sense) -> None:
        for phrase in _texts(phrases, sense):
            slot = self.lemmas.setdefault(str(phrase), [])
            if sense not in slot:
                slot.append(sense)

    def both(self, entry: object, sense: Sense) -> None:
        """An entry given as a list of words, or as {words: [...], verbs: [...]}."""
        if isinstance(entry, dict):
            self.word(entry.get("words") or (), sense)
            self.lemma(entry.get("verbs") or (), sense)
        elif isinstance(entry, list):
            self.word(entry, sense)


def _add_language(builder: _Builder, words: dict[str, Any]) -> None:
    sections = {
        Kind.TYPE: "types",
        Kind.ACTIVITY: "activities",
        Kind.FEATURE: "features",
        Kind.ASPECT: "aspects",
        Kind.ACTION: "actions",
    }
    for kind, section in sections.items():
        for value, entry in (words.get(section) or {}).items():
            builder.both(entry, Sense(kind, str(value)))
    for aspect, directions in (words.get("directed") or {}).items():
        for direction, entry in directions.items():
            builder.both(entry, Sense(Kind.DIRECTED, str(aspect), str(direction)))
    builder.word(words.get("question_words") or (), Sense(Kind.QUESTION, "question"))
    builder.lemma(words.get("question_words") or (), Sense(Kind.QUESTION, "question"))
    builder.word(words.get("question_starters") or (), Sense(Kind.QUESTION, "question", "start"))
    builder.word(words.get("tell_verbs") or (), Sense(Kind.TELL, "tell"))
    builder.lemma(words.get("tell_verbs") or (), Sense(Kind.TELL, "tell"))
    for attribute, verbs in (words.get("state_verbs") or {}).items():
        builder.lemma(verbs or (), Sense(Kind.STATE, str(attribute)))
        builder.word(verbs or (), Sense(Kind.STATE, str(attribute)))
    builder.word(words.get("all_words") or (), Sense(Kind.ALL, "all"))
    for phrase, count in (words.get("all_counts") or {}).items():
        builder.word([str(phrase)], Sense(Kind.ALL, "all", str(count)))
    builder.word(words.get("any_device") or (), Sense(Kind.ANY, "any"))
    builder.word(words.get("tell_nouns") or (), Sense(Kind.TELL, "tell"))
    for device_type, phrases in (words.get("purposes") or {}).items():
        builder.word(phrases or (), Sense(Kind.PURPOSE, str(device_type)))
    builder.word(words.get("now_words") or (), Sense(Kind.NOW, "now"))
    builder.both(words.get("offtopic") or {}, Sense(Kind.OFFTOPIC, "offtopic"))
    builder.word(words.get("absent") or (), Sense(Kind.ABSENT, "absent"))
    for compartment, names in (words.get("compartments") or {}).items():
        builder.word(names or (), Sense(Kind.COMPARTMENT, str(compartment)))


def _add_grammar(builder: _Builder, grammar: dict[str, Any]) -> Grammar:
    time = grammar.get("time") or {}
    builder.word(time.get("after") or (), Sense(Kind.AFTER, "after"))
    builder.word(time.get("before") or (), Sense(Kind.BEFORE, "before"))
    builder.word(time.get("at") or (), Sense(Kind.AT, "at"))
    for clock, names in (time.get("fixed") or {}).items():
        builder.word(names or (), Sense(Kind.CLOCK, str(clock)))
    for period, names in (time.get("periods") or {}).items():
        builder.word(names or (), Sense(Kind.PERIOD, str(period)))
    builder.word(grammar.get("negative") or (), Sense(Kind.NEGATIVE, "negative"))
    builder.word(grammar.get("absolute_before") or (), Sense(Kind.ABSOLUTE, "before"))
    builder.word(grammar.get("clause_words") or (), Sense(Kind.CLAUSE, "clause"))
    builder.word(grammar.get("request_auxiliaries") or (), Sense(Kind.REQUEST, "request"))
    builder.word(grammar.get("negation_words") or (), Sense(Kind.NEGATION, "negation"))
    simple = {
        Kind.EXCEPT: "exclusion_words",
        Kind.HERE: "here_words",
        Kind.BOOKING: "booking_words",
        Kind.RECENT: "recent_words",
        Kind.LISTING: "list_words",
        Kind.BRIEF: "brief_words",
        Kind.CONTINUE: "continue_words",
        Kind.COMPLETE: "complete_words",
        Kind.INTENSIFIER: "intensifiers",
        Kind.LESSENING: "lessening",
        Kind.FILLER: "fillers",
        Kind.CANCEL: "cancel_words",
    }
    for kind, section in simple.items():
        builder.word(grammar.get(section) or (), Sense(kind, kind.value))
    units = {
        key(str(word)): str(unit) for unit, names in (grammar.get("units") or {}).items() for word in names
    }

    def words(name: str) -> frozenset[str]:
        return frozenset(str(w) for w in grammar.get(name) or ())

    return Grammar(
        request_auxiliaries=words("request_auxiliaries"),
        request_endings=words("request_endings"),
        question_endings=words("question_endings"),
        state_auxiliaries=words("state_auxiliaries"),
        light_verbs=words("light_verbs"),
        statement_markers=words("statement_markers"),
        nominal_endings=words("nominal_endings"),
        ability_nouns=words("ability_nouns"),
        clause_endings=words("clause_endings"),
        negation_adverbs=words("negation_adverbs"),
        negation_auxiliaries=words("negation_auxiliaries"),
        absolute_after=words("absolute_after"),
        resultative_auxiliaries=words("resultative_auxiliaries"),
        progressive_nouns=words("progressive_nouns"),
        embedded_question_endings=words("embedded_question_endings"),
        conditional_endings=words("conditional_endings"),
        frame_endings=words("frame_endings"),
        past_markers=words("past_markers"),
        fact_nouns=words("fact_nouns"),
        exclusion_follows=bool(grammar.get("exclusion_follows")),
        particles=tuple(sorted((str(p) for p in grammar.get("particles") or ()), key=len, reverse=True)),
        progressive_auxiliaries=words("progressive_auxiliaries"),
        past_modifiers=words("past_modifiers"),
        unmarked_hours={
            int(hour): str(period)
            for period, hours in (time.get("unmarked_hours") or {}).items()
            for hour in hours
        },
        units=units,
    )


def _add_value_names(builder: _Builder, words: dict[str, Any], home: Home) -> None:
    """The language's common mode and fan-speed names, for every type that has that value."""
    for mode, names in (words.get("modes") or {}).items():
        for device_type, spec in home.types.items():
            if mode in spec.modes:
                builder.word(names or (), Sense(Kind.MODE, str(mode), device_type.value))
    speeds = {speed for spec in home.types.values() for speed in spec.fan_speeds}
    for speed, names in (words.get("fan_speeds") or {}).items():
        if speed in speeds:
            builder.word(names or (), Sense(Kind.FAN, str(speed)))


def _add_home(builder: _Builder, home: Home) -> list[str]:
    """Device, room, mode, fan and compartment names; returns the names to keep whole."""
    names: list[str] = []
    for room in home.rooms.values():
        builder.word(room.names, Sense(Kind.ROOM, room.id))
        names.extend(room.names)
    for device in home.devices.values():
        builder.word(device.names, Sense(Kind.DEVICE, device.id))
        names.extend(device.names)
        # A thing homes usually lack ("커피 머신") is no longer absent once this home has one.
        for name in device.names:
            slot = builder.slot(key(name))
            slot[:] = [sense for sense in slot if sense.kind is not Kind.ABSENT]
    for device_type, modes in home.mode_names.items():
        for mode, mode_names in modes.items():
            builder.word(mode_names, Sense(Kind.MODE, mode, device_type.value))
            names.extend(mode_names)
    for speed, speed_names in home.fan_speed_names.items():
        builder.word(speed_names, Sense(Kind.FAN, speed))
    for compartment, compartment_names in home.compartment_names.items():
        builder.word(compartment_names, Sense(Kind.COMPARTMENT, compartment))
        names.extend(compartment_names)
    return names


def _mapping(data: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _is_hangul_word(word: str) -> bool:
    return len(word) >= 2 and all("\uac00" <= ch <= "\ud7a3" for ch in word)


_NOUNS = frozenset(
    {Kind.DEVICE, Kind.ROOM, Kind.TYPE, Kind.ASPECT, Kind.MODE, Kind.COMPARTMENT, Kind.FEATURE}
)
"""Kinds of phrase the fuzzy index finds again from a slip."""


@dataclass(frozen=True, slots=True)
class _Language:
    """What a lexicon takes from one language's files alone: built once per process and shared by
    every home's lexicon (a home's copy of it cost ~1 MiB)."""

    sources: tuple[object, ...]
    """The parsed files it was built from (reloaded files: built again)."""
    words: dict[str, tuple[Sense, ...]]
    lemmas: dict[str, tuple[Sense, ...]]
    grammar: Grammar
    numerals: NumeralReader
    shared_words: tuple[str, ...]
    fuzzy: FuzzyIndex


_LANGUAGE_PARTS: dict[str, _Language] = {}


def _language(language: str) -> _Language:
    """The language's part of every lexicon in `language`."""
    word_data = _language_file(language, "words")
    sources = (
        _language_file(language, "grammar"),
        _language_file(language, "numerals"),
        *(_language_file(lang, "words") for lang in LANGUAGES),
    )
    built = _LANGUAGE_PARTS.get(language)
    if built is not None and all(a is b for a, b in zip(built.sources, sources, strict=True)):
        return built
    builder = _Builder()
    _add_language(builder, word_data)
    for other in LANGUAGES:
        if other != language and language == "ko":
            # Korean speech borrows English words ("거실 light 꺼", "TV 볼륨 up"); Kiwi keeps
            # them as Latin tokens, so the English word list applies to them as well.
            _add_language(builder, _language_file(other, "words"))
    grammar = _add_grammar(builder, _language_file(language, "grammar"))
    grammar = dataclasses.replace(
        grammar,
        know_verbs=frozenset(str(v) for v in word_data.get("know_verbs") or ()),
        perfective_states=_mapping(word_data.get("perfective_states")),
        progressive_states=_mapping(word_data.get("progressive_states")),
        # What a device type's on/off does is the same in every language: read from all of them.
        feature_switched=frozenset(
            str(t) for lang in LANGUAGES for t in _language_file(lang, "words").get("feature_switched") or ()
        ),
        goal_states=_mapping(word_data.get("goal_states")),
    )
    numerals = _language_file(language, "numerals")
    reader = NumeralReader(
        sino_digits={str(k): int(v) for k, v in (numerals.get("sino_digits") or {}).items()},
        sino_units={str(k): int(v) for k, v in (numerals.get("sino_units") or {}).items()},
        native_ones={str(k): int(v) for k, v in (numerals.get("native_ones") or {}).items()},
        native_tens={str(k): int(v) for k, v in (numerals.get("native_tens") or {}).items()},
        determiners={str(k): int(v) for k, v in (numerals.get("determiners") or {}).items()},
    )
    type_words = [w for entry in (word_data.get("types") or {}).values() for w in entry]
    shared_words = sorted(
        {part for name in type_words for part in str(name).split() if _is_hangul_word(part)}
    )
    words = {k: tuple(v) for k, v in builder.words.items()}
    built = _Language(
        sources=sources,
        words=words,
        lemmas={k: tuple(v) for k, v in builder.lemmas.items()},
        grammar=grammar,
        numerals=reader,
        shared_words=tuple(shared_words),
        fuzzy=FuzzyIndex(phrase for phrase, senses in words.items() if any(s.kind in _NOUNS for s in senses)),
    )
    _LANGUAGE_PARTS[language] = built
    return built


class _Meanings(Mapping[str, frozenset[Sense]]):
    """Phrase → its senses as a set, made when asked (only to tell two slip candidates apart)."""

    def __init__(self, words: Mapping[str, tuple[Sense, ...]]) -> None:
        self._words = words

    def __getitem__(self, phrase: str) -> frozenset[Sense]:
        return frozenset(self._words[phrase])

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)


def build_lexicon(home: Home, language: str) -> Lexicon:
    """The lexicon of `home` in `language` (`ko` or `en`): the language's part, shared, under the
    home's names and the language's names for the modes and fan speeds the home's types have."""
    if language not in LANGUAGES:
        raise ValueError(f"no language data for {language!r}; have {', '.join(LANGUAGES)}")
    shared = _language(language)
    builder = _Builder(shared.words)
    home_names = _add_home(builder, home)
    _add_value_names(builder, _language_file(language, "words"), home)
    user_words = sorted(
        {part for name in home_names for part in str(name).split() if _is_hangul_word(part)}
        - set(shared.shared_words)
    )
    own = {k: tuple(v) for k, v in builder.words.items()}
    # A plain dict (the parser's lookups are the hot path), sharing the language's keys and senses.
    words = {**shared.words, **own}
    # The home's changed phrases that are nouns; the language's nouns stay nouns (a home only adds
    # senses, or drops "absent"), so they are in the shared index already.
    fuzzy = FuzzyIndex(
        (phrase for phrase, senses in own.items() if any(s.kind in _NOUNS for s in senses)),
        _Meanings(words),
        base=shared.fuzzy,
    )
    longest = max((len(phrase.split()) for phrase in home_names), default=1)
    lexicon = Lexicon(
        language=language,
        words=words,
        lemmas=shared.lemmas,
        grammar=shared.grammar,
        numerals=shared.numerals,
        max_span=max(4, longest + 3),
        user_words=tuple(user_words),
        shared_words=shared.shared_words,
        fuzzy=fuzzy,
    )
    _LOGGER.debug("lexicon %s: %d phrases, %d lemmas", language, len(lexicon.words), len(lexicon.lemmas))
    return lexicon
