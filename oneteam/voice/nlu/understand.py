"""The public entry point: `Understander(home).understand(text, context_room) -> Result`."""

from __future__ import annotations

import logging
import unicodedata

from oneteam.model import Home
from oneteam.model.conversation import MAX_SENTENCE_CHARS
from oneteam.voice.nlu.fuzzy import correct_words
from oneteam.voice.nlu.lexicon import Kind, Lexicon
from oneteam.voice.nlu.lexicon_build import build_lexicon
from oneteam.voice.nlu.parse import Parsed, parse
from oneteam.voice.nlu.resolve import Resolver
from oneteam.voice.nlu.result import NoneResult, Result
from oneteam.voice.nlu.tokens import EnglishTokenizer, KoreanTokenizer, language_of

_LOGGER = logging.getLogger(__name__)


class Understander:
    """Understands what people say to one home, in Korean or English."""

    def __init__(self, home: Home, *, cache_size: int = 4096, max_chars: int = MAX_SENTENCE_CHARS) -> None:
        self.home = home
        self.max_chars = max_chars
        """Longer input is not a spoken request: it is refused (`none`, reason `too_long`) unread.
        The one sentence limit every door applies (oneteam.model.conversation); every step is
        linear in the text well past it (bench/bench_nlu.py measures 100 → 2,000 characters)."""
        self._lexicons: dict[str, Lexicon] = {lang: build_lexicon(home, lang) for lang in ("ko", "en")}
        korean = self._lexicons["ko"]
        self._korean = KoreanTokenizer(
            korean.user_words, shared_words=korean.shared_words, cache_size=cache_size
        )
        self._english = EnglishTokenizer(cache_size=cache_size)
        self._resolver = Resolver(home)

    def warm_up(self) -> None:
        """Load the morphology model now, not on the first request."""
        self._korean.warm_up()

    def parse(self, text: str) -> Parsed:
        """The parse of `text` (for tests and debugging)."""
        text = unicodedata.normalize("NFC", text).strip()
        language = language_of(text)
        lexicon = self._lexicons[language]
        tokenizer = self._korean if language == "ko" else self._english
        if lexicon.fuzzy is not None:
            text = correct_words(text, lexicon.words, lexicon.fuzzy, lexicon.grammar.particles)
        return parse(tokenizer.tokenize(text), text, lexicon)

    def referents(self, text: str) -> tuple[list[str], list[str]]:
        """The room ids and device ids `text` names ("안방" → (["master_bedroom"], []))."""
        rooms: list[str] = []
        devices: list[str] = []
        if not text.strip() or len(text) > self.max_chars:
            return rooms, devices
        for mention in self.parse(text).mentions:
            device = mention.first(Kind.DEVICE)
            room = mention.first(Kind.ROOM)
            if device is not None:
                devices.append(device.value)
            elif room is not None:
                rooms.append(room.value)
        return rooms, devices

    def understand(
        self, text: str, context_room: str | None = None, *, focus: tuple[str, ...] = ()
    ) -> Result:
        """What `text`, heard in `context_room` (a room id, or None), asks of the home.

        `focus`: devices the conversation is about (just asked about, or asked back), which an
        utterance naming no device refers to ("그럼 꺼 줘", "둘 다")."""
        if len(text) > self.max_chars:
            return NoneResult(reason="too_long")
        if not text.strip():
            return NoneResult()
        if context_room is not None and context_room not in self.home.rooms:
            _LOGGER.debug("unknown context room %r ignored", context_room)
            context_room = None
        focus = tuple(d for d in focus if d in self.home.devices)
        result = self._resolver.resolve(self.parse(text), context_room, focus)
        _LOGGER.debug("understood %d chars as %s", len(text), result.kind)
        return result
