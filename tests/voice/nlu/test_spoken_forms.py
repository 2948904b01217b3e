"""Forms that come with speech and terse typing: no question mark, to-dos as nouns, a course alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.voice.nlu.conftest import Understand
from tests.voice.nlu.expect import CLARIFY, NONE, cmd, matches, query, sched


@pytest.mark.parametrize(
    ("text", "room", "expected"),
    [
        # Speech has no "?": a final 니/나 still asks (Kiwi reads it as connective without the mark).
        ("공기청정기 켜져 있니", None, query("purifier", "power")),
        ("작은방 불 켜져있나", None, query("light_small", "power")),
        # A to-do said as a noun at the end of the sentence is a request.
        ("세 시간 뒤 거실 에어컨 끄기", None, sched(cmd(("ac_living", "turn_off")), delay_s=10800)),
        ("주방 불 켜기", None, cmd(("light_kitchen", "turn_on"))),
        # ... but the same noun followed by more is not ("켜기 싫어": does not want to).
        ("거실 불 켜기 싫어", None, NONE),
        # A course or mode only one kind of device has names that device.
        ("이불 빨래 돌려 줘", None, cmd(("washer", "set_mode", "bedding"), ("washer", "start"))),
        ("쾌속 세탁 시작", None, cmd(("washer", "set_mode", "quick"), ("washer", "start"))),
        ("난방으로 바꿔 줘", "living_room", cmd(("ac_living", "set_mode", "heat"))),
        ("제습 모드로 해 줘", None, CLARIFY),
        # A light verb with a connective ending ("…으로 하고") closes its clause like any verb.
        (
            "주방 불 끄고 티비 채널 9번으로 하고 작은방 불 켜 줘",
            None,
            cmd(("light_kitchen", "turn_off"), ("tv", "set_channel", 9), ("light_small", "turn_on")),
        ),
        # A mode several kinds share does not pick one by itself.
        ("자동으로 해 줘", None, NONE),
    ],
)
def test_spoken_and_terse_forms(understand: Understand, text: str, room: str | None, expected: Any) -> None:
    got = understand(text, room)
    assert matches(expected, got), f"{text!r} [{room}] → {got}"
