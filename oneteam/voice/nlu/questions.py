"""Questions about a device's state: when an utterance asks rather than acts (a question
word, a state form, a bare noun phrase ending on what to know), which attribute it asks
about, and which attribute of a device answers it (a washer with no `run_state` answers
`power`). `resolve.py` picks the device; these rules decide that it is a question and of what.
"""

from __future__ import annotations

from oneteam.model import Device
from oneteam.voice.nlu.lexicon import Kind
from oneteam.voice.nlu.parse import Parsed

# What is read and never set: a phrase ending on one of these asks for it.
_READ_ONLY = frozenset(
    {"remaining_time", "battery", "run_state", "door", "air_quality", "current_temperature"}
)
_STRONG_ACTIONS = frozenset({"on", "off", "start", "resume", "pause", "stop", "return_to_base", "up", "down"})


# A device that cannot answer one of these may answer the other ("에어컨 가동 중이니" → power).
_ALTERNATE = {"run_state": "power", "power": "run_state"}


def wants_query(parsed: Parsed) -> bool:
    """Whether the utterance asks for a state rather than for something to be done."""
    if not (parsed.is_question or parsed.is_tell):
        # A bare noun phrase naming what to know ("세탁기 남은 시간") asks for it, also when a
        # course or mode describes it ("세탁기 표준 코스 남은 시간"): nothing sets what it ends on.
        if not (parsed.is_phrase and parsed.has(Kind.ASPECT)):
            return False
        last = parsed.mentions[-1].first(Kind.ASPECT) if parsed.mentions else None
        if last is not None and last.value in _READ_ONLY and not parsed.has(Kind.ACTION):
            return not parsed.has(Kind.DIRECTED)
        return not any(c.has_cue for c in parsed.clauses)
    actions = {s.value for s in parsed.senses(Kind.ACTION)}
    if parsed.is_request and not parsed.is_tell:
        # "온도 지금 어때요?": a polite ending, but a question word and nothing to do
        return parsed.has(Kind.QUESTION) and not actions & _STRONG_ACTIONS and not parsed.has(Kind.DIRECTED)
    asks = parsed.has(Kind.QUESTION) or parsed.has(Kind.STATE) or parsed.is_tell
    return asks or not (actions & _STRONG_ACTIONS)


def only_asks(parsed: Parsed) -> bool:
    """A question that is not a request acts only on an explicit verb ("에어컨 켤까?");
    "세탁 다 됐어?" must not start the washer."""
    if not parsed.is_question or parsed.is_request:
        return False
    actions = {s.value for s in parsed.senses(Kind.ACTION)}
    return not (actions & _STRONG_ACTIONS) and not parsed.has(Kind.DIRECTED)


def answers(device: Device, attribute: str) -> bool:
    queries = device.spec.queries
    if attribute == "current_temperature":
        return "current_temperature" in queries or "temperature" in queries
    return attribute in queries or _ALTERNATE.get(attribute) in queries


def attribute_of(device: Device, attribute: str) -> str:
    if attribute == "current_temperature" and attribute not in device.spec.queries:
        return "temperature"
    if attribute not in device.spec.queries and attribute in _ALTERNATE:
        return _ALTERNATE[attribute]
    return attribute


def asked_attribute(parsed: Parsed) -> str | None:
    aspects = parsed.senses(Kind.ASPECT)
    if aspects:
        return aspects[0].value
    states = parsed.senses(Kind.STATE)
    if states:
        return states[0].value
    if {s.value for s in parsed.senses(Kind.ACTION)} & {"on", "off"}:
        return "power"
    if parsed.has(Kind.MODE):
        return "mode"  # 냉방이야 제습이야?
    if parsed.has(Kind.FAN):
        return "fan_speed"
    return None
