"""A phrase found in the text, with everything it may mean."""

from __future__ import annotations

from dataclasses import dataclass, field

from oneteam.voice.nlu.lexicon import Kind, Sense


@dataclass(frozen=True, slots=True)
class Mention:
    """A phrase found in the text, with everything it may mean."""

    senses: tuple[Sense, ...]
    start: int
    """First token index."""
    end: int
    """One past the last token index."""
    kinds: frozenset[Kind] = field(init=False, repr=False, compare=False)
    """The kinds of the senses, kept for `has` (called for every mention many times)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", frozenset(s.kind for s in self.senses))

    def first(self, kind: Kind) -> Sense | None:
        """The first sense of this kind, if any."""
        return next((s for s in self.senses if s.kind is kind), None)

    def has(self, kind: Kind) -> bool:
        """Whether the phrase can mean something of this kind."""
        return kind in self.kinds
