"""A phrase found in the text, with everything it may mean."""

from __future__ import annotations

from dataclasses import dataclass

from oneteam.voice.nlu.lexicon import Kind, Sense


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase found in the text, with everything it may mean."""

    senses: tuple[Sense, ...]
    start: int
    """First token index."""
    end: int
    """One past the last token index."""

    def first(self, kind: Kind) -> Sense | None:
        """The first sense of this kind, if any."""
        return next((s for s in self.senses if s.kind is kind), None)

    def has(self, kind: Kind) -> bool:
        """Whether the phrase can mean something of this kind."""
        return any(s.kind is kind for s in self.senses)
