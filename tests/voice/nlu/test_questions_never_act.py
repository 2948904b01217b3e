"""A question never executes: a generated grid of Korean questions about every device of the fixture home.

The grid is built from question morphology, not from sentences: each device's names (with and
without a subject particle) × the states its type has (resultative 켜져 있-, progressive 돌아가고
있-/작동 중, perfective 꺼졌-/끝났-, "did I leave it" 끄고 나왔-) × the endings that make them a
question (-어?/-니/-나/-냐/-어요?/-나요?/-습니까?, 중이야/중이니/중인가요, and 지-clauses under
알아?/알려 줘/확인해 줘). Every cell is checked exhaustively; the understander may answer a query,
ask back or decline, but must never return a command or a schedule.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pytest

from oneteam.model import Home
from oneteam.voice.nlu import Understander

# Endings after a stem that ends in 있- (켜져 있-, 돌아가고 있-): 있어?, 있니, 있는지 알아? ...
AFTER_ISS = (
    "어?",
    "어",
    "니?",
    "니",
    "나?",
    "냐?",
    "냐",
    "어요?",
    "나요?",
    "습니까?",
    "는 거야?",
    "는 거 맞아?",
    "지?",
    "지 않아?",
    "는지 알아?",
    "는지 알려 줘",
    "는지 확인해 줘",
    "는지 좀 봐 줄래?",
)
# Endings after a past stem (꺼졌-, 끝났-, 나왔-): 꺼졌어?, 끝났니, 나왔는지 확인해 줘 ...
AFTER_PAST = (
    "어?",
    "니?",
    "니",
    "나?",
    "냐?",
    "어요?",
    "나요?",
    "습니까?",
    "지?",
    "던가?",
    "는지 알아?",
    "는지 알려 줄래?",
    "는지 확인해 줘",
    "는지 모르겠네",
)
# Endings after a noun + 중 (작동 중, 청소 중): 작동 중이야?, 작동 중인가요? ...
AFTER_JUNG = (
    "이야?",
    "이야",
    "이니?",
    "이니",
    "이냐?",
    "인가?",
    "인가요?",
    "이에요?",
    "입니까?",
    "?",
    "인지 알아?",
    "인지 알려 줘",
    "인지 확인해 줘",
)


# Words people put before the state they ask about ("지금 켜져 있어?", "혹시 아직 돌아가고 있니?")
ADVERBS = ("", "지금 ", "혹시 ", "아직 ", "혹시 아직 ", "계속 ")  # 계속: also the resume word


@dataclass(frozen=True)
class States:
    """The states a device type can be asked about, as stems that take the endings above."""

    iss: tuple[str, ...] = ()
    """Resultative or progressive stems ending in 있-."""
    past: tuple[str, ...] = ()
    """Perfective stems (past tense) the device is the subject of: 꺼졌-, 끝났-."""
    did: tuple[str, ...] = ()
    """Perfective stems someone did to the device, 'did I leave it so': (내가) 에어컨을 끄고 나왔-."""
    jung: tuple[str, ...] = ()
    """Nouns that take 중 (in progress)."""


SWITCHED = States(
    iss=("켜져 있", "꺼져 있"),
    past=("켜졌", "꺼졌", "잘 꺼졌"),
    did=("끄고 나왔", "켜 놓고 나왔", "다 껐"),
)
RUNNING = States(
    iss=("돌아가고 있", "작동하고 있", "멈춰 있"),
    past=("다 끝났", "끝났", "멈췄", "다 돌았"),
    did=("돌려 놓고 나왔", "다 돌렸"),
    jung=("작동", "가동"),
)
BY_TYPE: dict[str, States] = {
    "light": SWITCHED,
    "tv": SWITCHED,
    "air_conditioner": States(
        iss=(*SWITCHED.iss, "돌아가고 있"),
        past=SWITCHED.past,
        did=SWITCHED.did,
        jung=("작동", "가동", "냉방"),
    ),
    "air_purifier": States(
        iss=(*SWITCHED.iss, "돌아가고 있"), past=SWITCHED.past, did=SWITCHED.did, jung=("작동", "가동")
    ),
    "washer": States(
        iss=RUNNING.iss, past=RUNNING.past, did=RUNNING.did, jung=(*RUNNING.jung, "세탁", "탈수")
    ),
    "dryer": States(iss=RUNNING.iss, past=RUNNING.past, did=RUNNING.did, jung=(*RUNNING.jung, "건조")),
    "robot_cleaner": States(
        iss=("청소하고 있", "돌아가고 있", "멈춰 있"),
        past=("청소 다 끝났", "다 끝났", "멈췄", "충전하러 돌아갔"),
        did=("돌려 놓고 나왔", "꺼 놨"),
        jung=("청소", "충전", "작동"),
    ),
    "refrigerator": States(
        iss=("문 열려 있", "문 닫혀 있"),
        past=("문 닫혔", "문 열렸", "급속냉동 켜졌"),
        did=("문 열어 놨", "문 닫고 나왔", "문 잘 닫았"),
        jung=("급속냉동",),
    ),
}


def _spoken_names(names: list[str]) -> list[str]:
    """The names a Korean speaker would use in a Korean sentence (Hangul, or TV)."""
    return [n for n in names if re.search(r"[가-힣]", n) or n in ("TV",)]


def _has_final(name: str) -> bool:
    last = name[-1]
    return "가" <= last <= "힣" and (ord(last) - ord("가")) % 28 != 0


def _subject(name: str) -> str:
    """The name with its subject particle: 이 after a final consonant, 가 otherwise."""
    return name + ("이" if _has_final(name) else "가")


def _object(name: str) -> str:
    """The name with its object particle: 을 after a final consonant, 를 otherwise."""
    return name + ("을" if _has_final(name) else "를")


def question_grid(home: Home) -> list[tuple[str, str]]:
    """(device id, question) for every device × name × particle × state × question ending."""
    grid: list[tuple[str, str]] = []
    for device in home.devices.values():
        states = BY_TYPE[device.type]
        for name in _spoken_names(list(device.names)):
            for said in (name, _subject(name)):
                grid.extend(
                    (device.id, f"{said} {adverb}{stem}{end}")
                    for adverb in ADVERBS
                    for stem in states.iss
                    for end in AFTER_ISS
                )
                grid.extend((device.id, f"{said} {stem}{end}") for stem in states.past for end in AFTER_PAST)
                grid.extend(
                    (device.id, f"{said} {noun} 중{end}") for noun in states.jung for end in AFTER_JUNG
                )
            for stem in states.did:  # the device is the object: 내가 에어컨을 끄고 나왔니?
                said_as = [name] if stem.startswith("문 ") else [name, _object(name)]
                grid.extend(
                    (device.id, f"{who}{said} {stem}{end}")
                    for who in ("", "내가 ")
                    for said in said_as
                    for end in AFTER_PAST
                )
    return grid


def test_the_grid_covers_every_device_of_the_home(nlu_home: Home) -> None:
    grid = question_grid(nlu_home)
    per_device = Counter(device for device, _ in grid)
    assert set(per_device) == set(nlu_home.devices)
    assert min(per_device.values()) >= 100
    assert len({q for _, q in grid}) == len(grid)
    assert _subject("세탁기") == "세탁기가"
    assert _subject("거실 불") == "거실 불이"
    assert _object("TV") == "TV를"
    assert _object("거실 불") == "거실 불을"


def test_no_question_of_the_grid_makes_the_home_act(nlu_home: Home, understander: Understander) -> None:
    grid = question_grid(nlu_home)
    acted = []
    for _device, question in grid:
        result = understander.understand(question)
        if result.kind in ("command", "schedule"):
            acted.append(f"{question} → {result.as_dict()}")
    by_device = Counter(q.split(" → ")[0] for q in acted)
    print(
        f"\nquestion grid: {len(grid)} questions over {len(nlu_home.devices)} devices; acted on {len(acted)}"
    )
    for line in acted[:40]:
        print("  ACTED", line)
    assert acted == [], f"{len(acted)} of {len(grid)} questions acted ({len(by_device)} distinct)"


@pytest.mark.parametrize("room", ["living_room", "master_bedroom", "small_room", "kitchen", "laundry_room"])
def test_questions_in_a_room_without_a_name_do_not_act(
    nlu_home: Home, understander: Understander, room: str
) -> None:
    """A speaker in a room who asks about 'the light'/'the AC' without naming it still only asks."""
    stems = ("불 켜져 있", "에어컨 돌아가고 있", "불 꺼져 있")
    questions = [f"{stem}{end}" for stem in stems for end in AFTER_ISS]
    questions += [f"에어컨 {stem}{end}" for stem in SWITCHED.past for end in AFTER_PAST]
    questions += [f"불 {stem}{end}" for stem in SWITCHED.did for end in AFTER_PAST]
    acted = [q for q in questions if understander.understand(q, room).kind in ("command", "schedule")]
    assert acted == []


# -- the counterpart: a request shaped like a question still acts ------------------------------

VERBS_BY_TYPE = {
    "light": ("켜", "꺼"),
    "tv": ("켜", "꺼"),
    "air_conditioner": ("켜", "꺼"),
    "air_purifier": ("켜", "꺼"),
    "washer": ("돌려", "멈춰"),
    "dryer": ("돌려", "멈춰"),
    "robot_cleaner": ("돌려", "멈춰"),
    "refrigerator": ("급속냉동 켜", "급속냉동 꺼"),
}
REQUEST_ENDINGS = [
    "줘",
    "줘라",
    "주세요",
    "주십시오",
    "줄래?",
    "줄래요?",
    "주실래요?",
    "줄 수 있어?",
    "줄 수 있니?",
    "주실 수 있나요?",
    "주면 안 될까?",
    "주시겠어요?",
    "주겠니?",
]


@pytest.mark.parametrize("ending", REQUEST_ENDINGS)
def test_a_request_shaped_like_a_question_acts_on_that_device(
    nlu_home: Home, understander: Understander, ending: str
) -> None:
    """켜 줄래? asks for an action, not about a state: the rule above must not swallow requests."""
    missed = []
    for device in nlu_home.devices.values():
        for name in _spoken_names(list(device.names)):
            for verb in VERBS_BY_TYPE[device.type]:
                request = f"{name} {verb} {ending}"
                result = understander.understand(request).as_dict()
                acted_on = {a["device"] for a in result.get("actions", [])}
                if result["kind"] != "command" or acted_on != {device.id}:
                    missed.append(f"{request} → {result}")
    assert missed == []
