"""The home-biased grammar: built from the home and the language data."""

from __future__ import annotations

from oneteam.model import Home
from oneteam.voice.asr import VoskModel
from oneteam.voice.grammar import Grammar, build_grammar, home_names, speech_vocabulary, split_known
from oneteam.voice.normalize import normalize


def test_grammar_covers_every_korean_device_and_room_name_of_the_home(
    home: Home, grammar: Grammar, vosk_model: VoskModel
) -> None:
    korean = [name for name in home_names(home) if not name.isascii()]
    assert korean
    for name in korean:
        spoken = normalize(name)
        pieces = [p for word in spoken.split() for p in (split_known(word, vosk_model.is_known) or [])]
        assert pieces, f"{name} cannot be spelled by the model"
        assert set(pieces) <= grammar.words, name
        assert name not in grammar.dropped


def test_every_room_and_device_appears_as_a_phrase_without_a_vocabulary_filter(home: Home) -> None:
    grammar = build_grammar(home, [])
    for room in home.rooms.values():
        for name in room.names:
            assert " ".join(normalize(name).split()) in grammar.phrases
    for device in home.devices.values():
        for name in device.names:
            assert " ".join(normalize(name).split()) in grammar.phrases


def test_vocabulary_brings_verbs_numbers_and_units_but_not_yaml_keys() -> None:
    words = speech_vocabulary()
    for word in ("켜", "꺼 줘", "이십", "다섯", "도", "퍼센트", "파란색"):
        assert word in words
    assert "verbs" not in words
    assert "air_conditioner" not in words


def test_names_the_model_lacks_are_split_into_known_pieces() -> None:
    known = {"코드", "제로", "퓨리", "케어"}.__contains__
    assert split_known("코드제로", known) == ["코드", "제로"]
    assert split_known("퓨리케어", known) == ["퓨리", "케어"]
    assert split_known("빅스비", known) is None


def test_unspellable_names_are_reported_not_silently_kept(home: Home) -> None:
    grammar = build_grammar(home, ["블라블라"], lambda word: "블" not in word)
    assert "블라블라" in grammar.dropped
    assert "블라블라" not in grammar.words
