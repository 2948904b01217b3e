"""The lexicon built from the home and the YAML, and the result JSON."""

from __future__ import annotations

import pytest

from oneteam.hub import parse_home
from oneteam.model import Direction, Home
from oneteam.voice.nlu import (
    Action,
    ClarifyResult,
    CommandResult,
    NoneResult,
    QueryResult,
    ScheduleResult,
    Understander,
    commands,
    language_of,
)
from oneteam.voice.nlu.lexicon import Kind, Sense, key
from oneteam.voice.nlu.lexicon_build import _Builder, build_lexicon


def test_home_names_enter_the_lexicon(nlu_home: Home) -> None:
    lexicon = build_lexicon(nlu_home, "ko")
    assert Sense(Kind.DEVICE, "robot") in lexicon.words[key("코드제로")]
    assert Sense(Kind.ROOM, "small_room") in lexicon.words[key("아이방")]
    assert Sense(Kind.MODE, "bedding", "washer") in lexicon.words[key("이불 코스")]
    assert Sense(Kind.ACTION, "off") in lexicon.lemmas["끄"]


def test_unknown_language_is_refused(nlu_home: Home) -> None:
    with pytest.raises(ValueError, match="no language data"):
        build_lexicon(nlu_home, "fr")


def test_yaml_booleans_in_word_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="quote it"):
        _Builder().word([False], Sense(Kind.ACTION, "off"))


def test_a_different_home_brings_its_own_names() -> None:
    home = parse_home(
        """
rooms:
  study: {names: [서재, study]}
devices:
  - {id: lamp, type: light, room: study, names: [서재 스탠드, desk lamp]}
"""
    )
    understander = Understander(home)
    assert understander.understand("서재 스탠드 꺼").as_dict() == {
        "kind": "command",
        "actions": [{"device": "lamp", "command": "turn_off"}],
    }
    assert understander.understand("turn on the desk lamp").as_dict()["actions"][0]["command"] == "turn_on"
    assert understander.understand("거실 에어컨 꺼").as_dict() == {"kind": "none"}


def test_result_json_is_exactly_the_eval_format() -> None:
    action = Action(
        device="fridge", command="adjust_temperature", value=1, direction=Direction.DOWN, target="freezer"
    )
    assert CommandResult(actions=(action,)).as_dict() == {
        "kind": "command",
        "actions": [
            {
                "device": "fridge",
                "command": "adjust_temperature",
                "value": 1,
                "direction": "down",
                "target": "freezer",
            }
        ],
    }
    assert QueryResult(device="tv", attribute="volume", target=None).as_dict() == {
        "kind": "query",
        "device": "tv",
        "attribute": "volume",
    }
    later = ScheduleResult(actions=(Action(device="tv", command="turn_off"),), at="23:00")
    assert later.as_dict() == {
        "kind": "schedule",
        "at": "23:00",
        "actions": [{"device": "tv", "command": "turn_off"}],
    }
    assert ClarifyResult(candidates=("a", "b")).as_dict() == {"kind": "clarify", "candidates": ["a", "b"]}
    assert NoneResult().as_dict() == {"kind": "none"}


def test_results_become_voice_commands_for_the_hub() -> None:
    result = ScheduleResult(actions=(Action(device="tv", command="set_volume", value=10),), delay_s=60)
    (command,) = commands(result)
    assert (command.device_id, command.name, command.value, command.source) == (
        "tv",
        "set_volume",
        10,
        "voice",
    )
    assert commands(QueryResult(device="tv", attribute="power")) == []


def test_language_is_told_by_hangul() -> None:
    assert language_of("TV 꺼") == "ko"
    assert language_of("turn off the TV") == "en"


def test_referents_name_rooms_and_devices(understander: Understander) -> None:
    assert understander.referents("안방이요") == (["master_bedroom"], [])
    assert understander.referents("스탠드 에어컨") == ([], ["ac_living"])
