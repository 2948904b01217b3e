"""What a conversation turn produces, whichever door the sentence came through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
