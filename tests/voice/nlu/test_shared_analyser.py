"""Many homes in one process share one Kiwi analyser; each home's own names stay whole in that
home only (tokens.py). Home A calls its air purifier "쌩쌩이", which Kiwi alone splits into the
adverb 쌩쌩 + a particle; home B has no such name."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

from kiwipiepy import Kiwi

from oneteam.hub import parse_home
from oneteam.voice.nlu import Understander
from oneteam.voice.nlu.lexicon_build import build_lexicon
from oneteam.voice.nlu.tokens import KoreanTokenizer

HOME_B = """
rooms:
  living_room: {names: [거실]}
devices:
  - {id: purifier, type: air_purifier, room: living_room, names: [공기청정기]}
  - {id: light, type: light, room: living_room, names: [거실 불]}
"""
HOME_A = HOME_B.replace("names: [공기청정기]", "names: [공기청정기, 쌩쌩이]")
NICKNAME = "쌩쌩이"


def tokenizer(home_text: str) -> KoreanTokenizer:
    """The home's Korean tokenizer, as its Understander builds it."""
    lexicon = build_lexicon(parse_home(home_text), "ko")
    return KoreanTokenizer(lexicon.user_words, shared_words=lexicon.shared_words, cache_size=0)


def surfaces(tokens: KoreanTokenizer, text: str) -> list[str]:
    return [token.surface for token in tokens.tokenize(text)]


def test_two_homes_share_one_analyser_and_keep_their_own_names() -> None:
    plain = KoreanTokenizer(cache_size=0)  # the shared analyser with no home's names
    assert NICKNAME not in surfaces(plain, f"{NICKNAME} 켜 줘")  # Kiwi alone splits it
    home_a, home_b = Understander(parse_home(HOME_A)), Understander(parse_home(HOME_B))
    tokens_a, tokens_b = tokenizer(HOME_A), tokenizer(HOME_B)
    assert tokens_a.kept_whole == (NICKNAME,) and tokens_b.kept_whole == ()

    on = home_a.understand(f"{NICKNAME} 켜 줘").as_dict()
    assert on == {"kind": "command", "actions": [{"device": "purifier", "command": "turn_on"}]}
    assert NICKNAME in surfaces(tokens_a, f"{NICKNAME} 켜 줘")
    assert NICKNAME in surfaces(tokens_a, f"거실불이랑{NICKNAME}꺼줘")  # spaceless too
    both = home_a.understand(f"거실불이랑{NICKNAME}꺼줘").as_dict()
    assert both["kind"] == "command"
    assert {a["device"] for a in both["actions"]} == {"light", "purifier"}

    # B reads the same words as if A did not exist: split, and not a name of its purifier.
    assert surfaces(tokens_b, f"{NICKNAME} 켜 줘") == surfaces(plain, f"{NICKNAME} 켜 줘")
    assert home_b.understand(f"{NICKNAME} 켜 줘").as_dict()["kind"] == "clarify"
    assert home_b.understand("공기청정기 꺼 줘").as_dict() == {
        "kind": "command",
        "actions": [{"device": "purifier", "command": "turn_off"}],
    }

    gc.collect()
    assert sum(isinstance(o, Kiwi) for o in gc.get_objects()) == 1  # one analyser for every home


def test_homes_analysing_at_once_from_threads_keep_their_own_names() -> None:
    """Conversations call in from worker threads: each home still gets its own reading."""
    home_a, home_b = tokenizer(HOME_A), tokenizer(HOME_B)
    text = f"{NICKNAME} 켜 줘"
    expected_a, expected_b = surfaces(home_a, text), surfaces(home_b, text)
    assert NICKNAME in expected_a and NICKNAME not in expected_b

    def read(i: int) -> bool:
        home, expected = (home_a, expected_a) if i % 2 else (home_b, expected_b)
        return surfaces(home, text) == expected

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(read, range(200)))


def test_homes_share_one_bounded_cache_of_analyses() -> None:
    """A sentence without a home's own names is analysed once for every home; with them, per home."""
    lexicon_a, lexicon_b = build_lexicon(parse_home(HOME_A), "ko"), build_lexicon(parse_home(HOME_B), "ko")
    home_a = KoreanTokenizer(lexicon_a.user_words, shared_words=lexicon_a.shared_words)
    home_b = KoreanTokenizer(lexicon_b.user_words, shared_words=lexicon_b.shared_words)
    assert home_a.tokenize("거실 불 좀 꺼 줄래") is home_b.tokenize("거실 불 좀 꺼 줄래")
    assert home_a.tokenize(f"{NICKNAME} 좀 꺼 줄래") != home_b.tokenize(f"{NICKNAME} 좀 꺼 줄래")
    assert home_a.tokenize(f"{NICKNAME} 좀 꺼 줄래") is home_a.tokenize(f"{NICKNAME} 좀 꺼 줄래")


def test_homes_share_the_languages_part_of_their_lexicons() -> None:
    """The language's phrases and fuzzy index are built once; each home adds only its own."""
    lexicon_a, lexicon_b = build_lexicon(parse_home(HOME_A), "ko"), build_lexicon(parse_home(HOME_B), "ko")
    assert lexicon_a.lemmas is lexicon_b.lemmas and lexicon_a.grammar is lexicon_b.grammar
    assert lexicon_a.words["조명"] is lexicon_b.words["조명"]  # a language word, not a name here
    assert NICKNAME in lexicon_a.words and NICKNAME not in lexicon_b.words
    for lexicon in (lexicon_a, lexicon_b):
        assert lexicon.fuzzy is not None and lexicon.fuzzy.correct("조멍") == "조명"  # the language's
    assert lexicon_a.fuzzy is not None and lexicon_a.fuzzy.correct("쌩쌩히") == NICKNAME  # A's own
    assert lexicon_b.fuzzy is not None and lexicon_b.fuzzy.correct("쌩쌩히") is None
