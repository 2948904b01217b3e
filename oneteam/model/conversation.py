"""What a conversation turn produces, whichever door the sentence came through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oneteam.model.errors import OneteamError

MAX_SENTENCE_CHARS = 500
"""Longest sentence any door hands to understanding: a spoken request is a few dozen characters,
and understanding costs grow with length, so longer text is refused with a message, not parsed."""


class SentenceTooLong(OneteamError):
    """A sentence over MAX_SENTENCE_CHARS."""

    key = "error.sentence_too_long"

    def __init__(self, length: int) -> None:
        super().__init__(
            f"a sentence of {length} characters; at most {MAX_SENTENCE_CHARS}",
            length=length,
            limit=MAX_SENTENCE_CHARS,
        )


def check_sentence(text: str) -> str:
    """`text`, or SentenceTooLong when it is over the limit every door applies."""
    if len(text) > MAX_SENTENCE_CHARS:
        raise SentenceTooLong(len(text))
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationReply:
    """The home's answer to one sentence."""

    text: str
    """What to say or show to the person, in `language`."""
    language: str
    """`ko` or `en`."""
    kind: str
    """The understanding's result kind: command, query, schedule, clarify or none."""
    result: dict[str, Any] = field(default_factory=dict)
    """The understood result, as in shared/eval/README.md."""
    done: list[dict[str, Any]] = field(default_factory=list)
    """Commands carried out (`{device, command, ...}`), scheduled, or refused (with `error`)."""
    changed_devices: list[str] = field(default_factory=list)
    """Devices whose state the turn changed (for highlighting)."""
