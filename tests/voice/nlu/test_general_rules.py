"""Rules added for the natural set's known misses, each over several sentences of its own."""

from __future__ import annotations

import pytest

from oneteam.voice.nlu.fuzzy import FuzzyIndex
from tests.voice.nlu.conftest import Understand


def _acts(got: dict[str, object]) -> list[object]:
    actions = got.get("actions")
    return list(actions) if isinstance(actions, list) else []


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("안방 에어컨 바람이 차가우니까 온도 좀 올려 줘", "up"),
        ("안방 에어컨 바람이 세서 추워 설정 온도 높여", "up"),
        ("안방 에어컨 바람 너무 미지근해 온도 좀 낮춰", "down"),
    ],
)
def test_the_aspect_said_nearest_the_action_is_changed(
    understand: Understand, text: str, direction: str
) -> None:
    """A wind complained about before "온도 올려" does not make it a fan-speed change."""
    assert _acts(understand(text)) == [
        {"device": "ac_bedroom", "command": "adjust_temperature", "direction": direction}
    ]


def test_a_slip_between_two_spellings_of_one_thing_is_corrected() -> None:
    meaning = frozenset({"air_conditioner"})
    index = FuzzyIndex(["에어컨", "에어콘", "거실"], {"에어컨": meaning, "에어콘": meaning, "거실": "room"})
    assert index.correct("에어켠") == "에어컨"  # one jamo from both, and both mean the same
    other = FuzzyIndex(["수면", "수명"], {"수면": "sleep", "수명": "life"})
    assert other.correct("수몀") is None  # one jamo from two different things: no guess


@pytest.mark.parametrize("text", ["거실 에어켠 켜 줘", "안방 에어켠 좀 꺼", "거실 에어콩 꺼 줘"])
def test_air_conditioner_slips_reach_the_device(understand: Understand, text: str) -> None:
    got = understand(text)
    assert got["kind"] == "command"
    assert [a["device"] for a in _acts(got)] in (["ac_living"], ["ac_bedroom"])  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "device"),
    [
        ("안방 좀 춥지 않니?", "ac_bedroom"),
        ("거실 덥지 않냐?", "ac_living"),
        ("안방 쌀쌀하지 않아?", "ac_bedroom"),
    ],
)
def test_a_negative_question_about_how_it_feels_asks_the_temperature(
    understand: Understand, text: str, device: str
) -> None:
    assert understand(text) == {"kind": "query", "device": device, "attribute": "current_temperature"}


@pytest.mark.parametrize("text", ["거실 불 끄지 않을래?", "티비 켜지 않아도 돼", "에어컨 끄지 마"])
def test_a_negated_act_still_does_nothing_or_asks(understand: Understand, text: str) -> None:
    assert understand(text)["kind"] not in ("command", "schedule") or text.endswith("않을래?")


@pytest.mark.parametrize(
    ("text", "device", "command"),
    [
        ("거실 공기 좀 맑게 만들어 줘", "purifier", "turn_on"),
        ("안방 좀 시원하게 만들어 줘", "ac_bedroom", "adjust_temperature"),
        ("거실 좀 밝게 만들어 줄래?", "light_living", "adjust_brightness"),
    ],
)
def test_make_it_so_is_a_request_for_that_state(
    understand: Understand, text: str, device: str, command: str
) -> None:
    got = understand(text)
    assert got["kind"] == "command", got
    assert (device, command) in [(a["device"], a["command"]) for a in _acts(got)]  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "device", "mode"),
    [("세탁기 울 코스로 빨래", "washer", "wool"), ("세탁기 이불 코스 빨래", "washer", "bedding")],
)
def test_a_verbless_course_and_activity_sets_the_course_and_starts(
    understand: Understand, text: str, device: str, mode: str
) -> None:
    assert _acts(understand(text)) == [
        {"device": device, "command": "set_mode", "value": mode},
        {"device": device, "command": "start"},
    ]


def test_a_verbless_activity_alone_or_before_a_question_does_not_start(understand: Understand) -> None:
    assert understand("빨래")["kind"] != "command"
    assert understand("세탁기 빨래 남은 시간")["kind"] != "command"
    assert understand("세탁기 빨래?")["kind"] != "command"


@pytest.mark.parametrize(
    "text", ["세탁기 지금 도는 중이야?", "건조기 도는 거 맞아?", "로봇청소기 거실 돌아다니는 중이니?"]
)
def test_turning_said_with_the_l_dropped_asks_the_run_state(understand: Understand, text: str) -> None:
    got = understand(text)
    assert got["kind"] == "query" and got["attribute"] == "run_state", got


@pytest.mark.parametrize(
    ("text", "value"),
    [("make the bedroom light as bright as it gets", 100), ("set the kitchen light as dim as it can go", 1)],
)
def test_english_as_far_as_it_goes_is_the_limit(understand: Understand, text: str, value: int) -> None:
    got = _acts(understand(text))
    assert len(got) == 1 and got[0]["command"] == "set_brightness", got  # type: ignore[index]
    assert got[0]["value"] in (value, 0 if value == 1 else value)  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("세탁기 아예 멈춰", "stop"),
        ("청소기 완전히 세워 줘", "stop"),
        ("세탁기 잠깐 세워 줘", "pause"),
        ("건조기 멈춰", "pause"),
    ],
)
def test_all_the_way_makes_a_halt_a_stop(understand: Understand, text: str, command: str) -> None:
    assert [a["command"] for a in _acts(understand(text))] == [command]  # type: ignore[index]


@pytest.mark.parametrize(("text", "value"), [("티비볼륨삼십으로", 30), ("안방불밝기이십으로해줘", 20)])
def test_a_glued_digit_is_part_of_the_number_when_both_readings_fit(
    understand: Understand, text: str, value: int
) -> None:
    got = _acts(understand(text))
    assert [a["value"] for a in got] == [value], got  # type: ignore[index]


@pytest.mark.parametrize(
    "text", ["세탁기 표준 코스 남은 시간", "로봇청소기 배터리", "건조기 이불 코스 남은 시간"]
)
def test_a_phrase_ending_on_what_is_only_read_asks_it(understand: Understand, text: str) -> None:
    assert understand(text)["kind"] == "query"


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            "안방 불 켜지게 해 줘",
            {"kind": "command", "actions": [{"device": "light_bedroom", "command": "turn_on"}]},
        ),
        (
            "20분 있다가 티비 꺼지게 해 주세요",
            {"kind": "schedule", "delay_s": 1200, "actions": [{"device": "tv", "command": "turn_off"}]},
        ),
        ("건조기 돌아가게 해 줘", {"kind": "command", "actions": [{"device": "dryer", "command": "start"}]}),
    ],
)
def test_a_state_wanted_with_ge_hae_juda_is_the_act(
    understand: Understand, text: str, expect: dict[str, object]
) -> None:
    assert understand(text) == expect


@pytest.mark.parametrize("text", ["티비 꺼지게 해 줬어?", "안방 불 꺼지게 해 놨니?", "건조기 돌아가게 했어?"])
def test_asking_whether_it_was_made_so_never_acts(understand: Understand, text: str) -> None:
    assert understand(text)["kind"] not in ("command", "schedule")
