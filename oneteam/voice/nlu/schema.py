"""The shape of the language data (lang/<language>/{grammar,words,numerals}.yaml), checked at load.

A reviewer edits these files by hand; a misspelt key would otherwise be ignored without a word
and a wrong type (a bare `on` read as a boolean, a list where a mapping belongs) would fail far
from its cause. `check` names the file and the key path of the first thing out of shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# A shape is one of these names, or a dict of key → shape (a mapping with exactly those keys,
# each optional), or ("map", shape) for a mapping whose keys are free names.
WORDS = "words"
"""A list of text entries (a bare `on` or `yes` must be quoted)."""
ENTRY = "entry"
"""Words, or {words: [...], verbs: [...]}."""
TEXT = "text"
WHOLE = "whole"
"""A whole number."""
WHOLES = "wholes"
"""A list of whole numbers."""
FLAG = "flag"

Shape = str | tuple[str, Any] | dict[str, Any]

_TIME: dict[str, Shape] = {
    "after": WORDS,
    "before": WORDS,
    "at": WORDS,
    "periods": ("map", WORDS),
    "unmarked_hours": ("map", WHOLES),
    "fixed": ("map", WORDS),
}
_GRAMMAR_WORD_LISTS = [
    "request_auxiliaries",
    "request_endings",
    "question_endings",
    "embedded_question_endings",
    "state_auxiliaries",
    "resultative_auxiliaries",
    "progressive_nouns",
    "intensifiers",
    "lessening",
    "brief_words",
    "continue_words",
    "complete_words",
    "exclusion_words",
    "here_words",
    "booking_words",
    "cancel_words",
    "recent_words",
    "list_words",
    "negation_adverbs",
    "negation_auxiliaries",
    "negation_words",
    "conditional_endings",
    "frame_endings",
    "statement_markers",
    "past_markers",
    "past_modifiers",
    "fact_nouns",
    "progressive_auxiliaries",
    "particles",
    "fillers",
    "nominal_endings",
    "ability_nouns",
    "light_verbs",
    "clause_endings",
    "clause_words",
    "absolute_after",
    "absolute_before",
    "negative",
]
GRAMMAR: dict[str, Shape] = {
    **dict.fromkeys(_GRAMMAR_WORD_LISTS, WORDS),
    "units": ("map", WORDS),
    "time": _TIME,
    "exclusion_follows": FLAG,
}
_WORDS_WORD_LISTS = [
    "any_device",
    "feature_switched",
    "question_words",
    "question_starters",
    "tell_verbs",
    "tell_nouns",
    "know_verbs",
    "all_words",
    "now_words",
    "absent",
]
WORDS_FILE: dict[str, Shape] = {
    **dict.fromkeys(_WORDS_WORD_LISTS, WORDS),
    **dict.fromkeys(
        [
            "types",
            "activities",
            "features",
            "purposes",
            "compartments",
            "aspects",
            "state_verbs",
            "modes",
            "fan_speeds",
        ],
        ("map", WORDS),
    ),
    "actions": ("map", ENTRY),
    "directed": ("map", ("map", ENTRY)),
    "perfective_states": ("map", TEXT),
    "progressive_states": ("map", TEXT),
    "goal_states": ("map", TEXT),
    "all_counts": ("map", WHOLE),
    "offtopic": {"words": WORDS, "verbs": WORDS},
}
NUMERALS: dict[str, Shape] = dict.fromkeys(
    ("sino_digits", "sino_units", "native_ones", "native_tens", "determiners"), ("map", WHOLE)
)
FILES: dict[str, dict[str, Shape]] = {"grammar": GRAMMAR, "words": WORDS_FILE, "numerals": NUMERALS}


class LanguageDataError(ValueError):
    """A language file out of shape: the message names the file and the key."""


def check(data: object, name: str, where: str) -> dict[str, Any]:
    """`data` (one parsed file named `name`, found at `where`) as a mapping, or LanguageDataError."""
    shape = FILES.get(name)
    if shape is None:
        raise LanguageDataError(f"{where}: no schema for a language file named {name!r}")
    if data is None:
        return {}
    _check(data, shape, where, ())
    assert isinstance(data, dict)
    return data


def _fail(where: str, path: tuple[str, ...], problem: str) -> LanguageDataError:
    at = ".".join(path) if path else "(top)"
    return LanguageDataError(f"{where}: key {at!r}: {problem}")


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(value: object, shape: Shape, where: str, path: tuple[str, ...]) -> None:
    if isinstance(shape, dict):
        if not isinstance(value, Mapping):
            raise _fail(where, path, f"expected a mapping, got {type(value).__name__}")
        for key, inner in value.items():
            if str(key) not in shape:
                known = ", ".join(sorted(shape))
                raise _fail(where, (*path, str(key)), f"unknown key (known here: {known})")
            if inner is not None:
                _check(inner, shape[str(key)], where, (*path, str(key)))
        return
    if isinstance(shape, tuple):
        if not isinstance(value, Mapping):
            raise _fail(where, path, f"expected a mapping of names, got {type(value).__name__}")
        for key, inner in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise _fail(where, (*path, str(key)), "a name must be text; quote it")
            if inner is not None:
                _check(inner, shape[1], where, (*path, str(key)))
        return
    _check_leaf(value, shape, where, path)


def _check_leaf(value: object, shape: str, where: str, path: tuple[str, ...]) -> None:
    if shape == ENTRY and isinstance(value, Mapping):
        _check(value, {"words": WORDS, "verbs": WORDS}, where, path)
        return
    if shape in (WORDS, ENTRY, WHOLES):
        if not isinstance(value, list):
            raise _fail(where, path, f"expected a list, got {type(value).__name__}")
        for index, item in enumerate(value):
            ok = _is_whole(item) if shape == WHOLES else isinstance(item, str)
            if not ok:
                wanted = "a whole number" if shape == WHOLES else "text (quote a bare on/off/yes/no)"
                raise _fail(where, (*path, str(index)), f"{item!r} should be {wanted}")
        return
    ok = {
        TEXT: isinstance(value, str),
        WHOLE: _is_whole(value),
        FLAG: isinstance(value, bool),
    }[shape]
    if not ok:
        wanted = {TEXT: "text", WHOLE: "a whole number", FLAG: "true or false"}[shape]
        raise _fail(where, path, f"{value!r} should be {wanted}")
