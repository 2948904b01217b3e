"""The lexicon: every phrase the matcher knows, from the home file and the language YAML
(built by `lexicon_build.py`).

A phrase maps to one or more `Sense`s (what it means). Phrases are keyed with spaces removed
and lower-cased, so "거실불" and "거실 불", "Living Room AC" and "living room ac" meet. Verbs
are keyed by the base form Kiwi gives (`꺼` → `끄`), in `lemmas`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from oneteam.voice.nlu.fuzzy import FuzzyIndex
from oneteam.voice.nlu.numbers import NumeralReader

_LOGGER = logging.getLogger(__name__)

LANGUAGES = ("ko", "en")


class Kind(StrEnum):
    """What a phrase is."""

    DEVICE = "device"
    ROOM = "room"
    TYPE = "type"
    ACTIVITY = "activity"
    FEATURE = "feature"
    MODE = "mode"
    FAN = "fan"
    COMPARTMENT = "compartment"
    ASPECT = "aspect"
    ACTION = "action"
    DIRECTED = "directed"
    QUESTION = "question"
    TELL = "tell"
    STATE = "state"
    ALL = "all"
    NOW = "now"
    OFFTOPIC = "offtopic"
    ABSENT = "absent"
    AFTER = "after"
    BEFORE = "before"
    AT = "at"
    PERIOD = "period"
    NEGATIVE = "negative"
    ABSOLUTE = "absolute"
    REQUEST = "request"
    CLAUSE = "clause"
    NEGATION = "negation"
    CLOCK = "clock"
    """A time of day said without numbers (자정 → 00:00)."""
    ANY = "any"
    """A word for any device of the home (기기, 가전)."""
    PURPOSE = "purpose"
    """A wanted condition that names the type bringing it about (공기 깨끗하게 → purifier)."""
    EXCEPT = "except"
    """Leaves out what was said just before (거실 빼고)."""
    HERE = "here"
    """The speaker's room (여기, 이 방)."""
    BOOKING = "booking"
    """A booking (예약): with a time, do it then; without, the bookings themselves."""
    RECENT = "recent"
    """The latest one (아까, 방금)."""
    LISTING = "listing"
    """Asks for a list (목록)."""
    BRIEF = "brief"
    """For a moment (잠시): a stop becomes a pause."""
    COMPLETE = "complete"
    """All the way (완전히, 아예): a pause becomes a stop."""
    CONTINUE = "continue"
    """On from where it stopped (계속, 이어서): a start becomes a resume."""
    INTENSIFIER = "intensifier"
    LESSENING = "lessening"
    CANCEL = "cancel"
    """Removes a booking (예약 지워 줘); only beside a booking word."""
    FILLER = "filler"
    """A hesitation (그 뭐냐, 있잖아): carries no meaning, and its question form asks nothing."""
    COMPLAINT = "complaint"
    """A state described ("너무 밝아"): value is the aspect, extra the direction wanted (the opposite)."""


@dataclass(frozen=True, slots=True)
class Sense:
    """One meaning of a phrase."""

    kind: Kind
    value: str
    """The canonical id: a device id, room id, DeviceType, mode id, action name, aspect, ..."""
    extra: str = ""
    """A second id where the meaning needs one: a mode's device type, a directed word's direction."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Grammar:
    """The grammatical cues of one language."""

    request_auxiliaries: frozenset[str]
    request_endings: frozenset[str]
    question_endings: frozenset[str]
    state_auxiliaries: frozenset[str]
    statement_markers: frozenset[str]
    """Pre-final endings of a report or a guess (켰어, 좋겠다), not a request."""
    nominal_endings: frozenset[str]
    ability_nouns: frozenset[str]
    light_verbs: frozenset[str]
    """Verbs that make an activity noun a request (빨래 + 하)."""
    clause_endings: frozenset[str]
    negation_adverbs: frozenset[str]
    negation_auxiliaries: frozenset[str]
    absolute_after: frozenset[str]
    resultative_auxiliaries: frozenset[str] = frozenset()
    """Auxiliaries after an action that say its result stays (열어 놨니, 켜져 있어)."""
    progressive_nouns: frozenset[str] = frozenset()
    """Bound nouns of an ongoing event (작동 중)."""
    embedded_question_endings: frozenset[str] = frozenset()
    """Connective endings of a question inside a sentence (꺼졌는지 확인해 줘)."""
    know_verbs: frozenset[str] = frozenset()
    """Verbs that ask for an embedded question's answer (알, 보, 확인하)."""
    perfective_states: Mapping[str, str] = field(default_factory=dict)
    """A state or action asked about in the perfective → the attribute asked (끝났니 → run_state)."""
    progressive_states: Mapping[str, str] = field(default_factory=dict)
    """An action asked about in the progressive → the attribute asked (작동 중 → run_state)."""
    feature_switched: frozenset[str] = frozenset()
    """Device types whose on/off switch one feature, which must then be named."""
    past_markers: frozenset[str] = frozenset()
    """Pre-final endings of the past (었, 았): 껐니? asks about the result."""
    past_modifiers: frozenset[str] = frozenset()
    """Modifier endings of the past (끈 거 맞지?)."""
    goal_states: Mapping[str, str] = field(default_factory=dict)
    """State verb → the action bringing it about, said with 게 (꺼지게 → off)."""
    exclusion_follows: bool = False
    """The excluded thing is said after the exclusion word (English), not before (Korean)."""
    particles: tuple[str, ...] = ()
    """Particles that may follow a word, longest first (for correcting the word before them)."""
    fact_nouns: frozenset[str] = frozenset()
    """Bound nouns of "the fact" (켜져 있는 거야?)."""
    progressive_auxiliaries: frozenset[str] = frozenset()
    """Auxiliaries after 고 of an ongoing act (청소하고 있어?)."""
    frame_endings: frozenset[str] = frozenset()
    """Connective endings of a condition or background clause (끝났으면, 켜져 있는데)."""
    conditional_endings: frozenset[str] = frozenset()
    """"꺼 주면 안 될까?": a negation after a conditional is a polite request."""
    unmarked_hours: Mapping[int, str] = field(default_factory=dict)
    """An hour said without a part of day → the part meant (3 → pm: "세 시에" is 15:00)."""
    units: Mapping[str, str]
    """Unit word → unit id (`도` → `degree`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lexicon:
    """Everything the matcher knows about one home in one language."""

    language: str
    words: Mapping[str, tuple[Sense, ...]]
    """Phrases matched on the text, spaces removed, lower case."""
    lemmas: Mapping[str, tuple[Sense, ...]]
    """Verb and adjective base forms."""
    grammar: Grammar
    numerals: NumeralReader
    max_span: int
    """The most tokens one phrase spans."""
    user_words: tuple[str, ...] = field(default_factory=tuple)
    """This home's names the tokenizer should keep whole (`이불`, `퓨리케어`), in this home only."""
    shared_words: tuple[str, ...] = field(default_factory=tuple)
    """The language's own words to keep whole (`로봇청소기`): the same for every home, so they
    live in the one analyser every home of the process shares."""
    fuzzy: FuzzyIndex | None = None
    """The home's nouns (devices, rooms, types, aspects, modes), found again from a one-jamo slip."""


def key(phrase: str) -> str:
    """The lookup key of a phrase: lower case, no spaces, no apostrophes ("what's" = "whats")."""
    return "".join(phrase.lower().replace("'", "").replace("\u2019", "").split())
