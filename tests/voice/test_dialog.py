"""Replies and conversations against a real hub with virtual appliances and a SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home, parse_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Direction, Home
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import Action, ClarifyResult, ScheduleResult, Understander
from oneteam.voice.replies import Replies

HOME = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "home.yaml"


@pytest.fixture(scope="module")
def eval_home() -> Home:
    if not HOME.is_file():
        pytest.skip("shared/eval/home.yaml is not beside the repository")
    return load_home(HOME)


@pytest.fixture(scope="module")
def understander(eval_home: Home) -> Understander:
    return Understander(eval_home)


@pytest.fixture
async def hub(tmp_path: Path, eval_home: Home) -> AsyncIterator[Hub]:
    running = Hub(eval_home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(eval_home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


@pytest.fixture
def conversation(hub: Hub, understander: Understander) -> Conversation:
    return Conversation(hub, understander)


# -- particles and numbers -------------------------------------------------------------------

SMALL_HOME = """
rooms:
  living_room: {names: [거실, living room]}
devices:
  - {id: ac, type: air_conditioner, room: living_room, names: [에어컨, air conditioner]}
  - {id: tv, type: tv, room: living_room, names: [TV]}
  - {id: light, type: light, room: living_room, names: [조명, light]}
  - {id: washer, type: washer, room: living_room, names: [세탁기, washer]}
  - {id: dryer, type: dryer, room: living_room, names: [건조기, dryer]}
types:
  air_conditioner:
    commands: [turn_on, turn_off, set_temperature, adjust_temperature, set_mode, set_fan_speed]
    modes: {cool: [냉방]}
    temperature_range: [18, 30]
  washer:
    commands: [start, pause, stop, set_mode]
    modes: {bedding: [이불]}
"""


@pytest.fixture(scope="module")
def replies() -> Replies:
    return Replies(parse_home(SMALL_HOME))


def test_object_particle_follows_the_final_sound(replies: Replies) -> None:
    assert replies.actions([Action(device="ac", command="turn_on")], "ko") == "에어컨을 켰어요."
    assert replies.actions([Action(device="light", command="turn_off")], "ko") == "조명을 껐어요."
    assert replies.actions([Action(device="tv", command="turn_on")], "ko") == "TV를 켰어요."


def test_direction_particle_after_numbers_read_aloud(replies: Replies) -> None:
    def set_to(command: str, device: str, value: int) -> str:
        return replies.actions([Action(device=device, command=command, value=value)], "ko")

    assert set_to("set_temperature", "ac", 24) == "에어컨 온도를 24도로 맞췄어요."
    assert set_to("set_temperature", "ac", 18) == "에어컨 온도를 18도로 맞췄어요."
    assert set_to("set_volume", "tv", 10) == "TV 볼륨을 10으로 맞췄어요."
    assert set_to("set_volume", "tv", 7) == "TV 볼륨을 7로 맞췄어요."
    assert set_to("set_channel", "tv", 11) == "TV 채널을 11번으로 돌렸어요."


def test_subject_particle_in_answers(replies: Replies) -> None:
    from oneteam.model import State
    from oneteam.voice.nlu import QueryResult

    running = State(device_id="washer", attributes={"run_state": "running", "remaining_time": 5400})
    washer = replies.answer(QueryResult(device="washer", attribute="remaining_time"), running, "ko")
    assert washer == "세탁기가 끝나려면 한 시간 30분 남았어요."
    running = State(device_id="dryer", attributes={"run_state": "running", "remaining_time": 600})
    dryer = replies.answer(QueryResult(device="dryer", attribute="remaining_time"), running, "ko")
    assert dryer == "건조기가 끝나려면 10분 남았어요."


def test_course_then_start_is_said_as_one(replies: Replies) -> None:
    actions = [
        Action(device="washer", command="set_mode", value="bedding"),
        Action(device="washer", command="start"),
    ]
    assert replies.actions(actions, "ko") == "세탁기를 이불 코스로 시작했어요."
    assert replies.actions([Action(device="ac", command="set_mode", value="cool")], "ko") == (
        "에어컨을 냉방 모드로 바꿨어요."
    )


def test_numbers_are_written_for_reading_aloud(replies: Replies) -> None:
    assert replies.degrees(-18, "ko") == "영하 18도"
    assert replies.duration(5400, "ko") == "한 시간 30분"
    assert replies.duration(3 * 3600, "ko") == "세 시간"
    assert replies.clock("15:30", "ko") == "오후 세 시 30분"
    assert replies.clock("07:00", "ko") == "아침 일곱 시"
    assert replies.clock("23:00", "ko") == "밤 열한 시"
    assert replies.clock("15:30", "en") == "3:30 PM"


def test_adjust_without_amount_says_a_little(replies: Replies) -> None:
    action = Action(device="ac", command="adjust_temperature", direction=Direction.DOWN)
    assert replies.actions([action], "ko") == "에어컨 온도를 조금 내렸어요."
    action = Action(device="ac", command="adjust_temperature", direction=Direction.UP, value=2)
    assert replies.actions([action], "ko") == "에어컨 온도를 2도 올렸어요."


def test_schedule_reply_says_when(replies: Replies) -> None:
    actions = (Action(device="ac", command="turn_off"),)
    later = ScheduleResult(actions=actions, delay_s=1800)
    assert replies.actions(actions, "ko", schedule=later) == "30분 뒤에 에어컨을 끌게요."
    at = ScheduleResult(actions=actions, at="19:00")
    assert replies.actions(actions, "ko", schedule=at) == "저녁 일곱 시에 에어컨을 끌게요."
    assert replies.actions(actions, "en", schedule=at) == "I'll turn off the air conditioner at 7 PM."


def test_clarify_names_the_candidates(replies: Replies) -> None:
    text = replies.clarify(ClarifyResult(candidates=("ac", "light")), "ko")
    assert "에어컨" in text
    assert "조명" in text


# -- conversations through a real hub ------------------------------------------------------


async def test_command_is_carried_out_and_confirmed(hub: Hub, conversation: Conversation) -> None:
    reply = await conversation.converse("안방 에어컨 좀 켜 줄래", session="a")
    assert reply.kind == "command"
    assert reply.text == "안방 에어컨을 켰어요."
    assert reply.changed_devices == ["ac_bedroom"]
    assert hub.state("ac_bedroom").get("power") is True


async def test_clarify_then_room_answer_completes_the_request(hub: Hub, conversation: Conversation) -> None:
    first = await conversation.converse("불 꺼 줘", session="kitchen-speaker")
    assert first.kind == "clarify"
    assert "주방" in first.text
    await hub.dispatch(Action(device="light_bedroom", command="turn_on").to_command())
    second = await conversation.converse("안방", session="kitchen-speaker")
    assert second.kind == "command"
    assert second.result["actions"] == [{"device": "light_bedroom", "command": "turn_off"}]
    assert hub.state("light_bedroom").get("power") is False


async def test_answer_in_another_session_does_not_complete(conversation: Conversation) -> None:
    assert (await conversation.converse("에어컨 꺼", session="one")).kind == "clarify"
    assert (await conversation.converse("안방", session="two")).kind == "none"


def test_follow_up_naming_a_device_completes(conversation: Conversation) -> None:
    assert isinstance(conversation.turn("에어컨 꺼", session="s").result, ClarifyResult)
    turn = conversation.turn("스탠드 에어컨", session="s")
    assert turn.is_follow_up
    assert turn.result.as_dict()["actions"] == [{"device": "ac_living", "command": "turn_off"}]


def test_answer_that_settles_nothing_asks_again(conversation: Conversation) -> None:
    assert isinstance(conversation.turn("불 꺼", session="s").result, ClarifyResult)
    again = conversation.turn("다용도실", session="s")
    assert isinstance(again.result, ClarifyResult)
    assert again.is_follow_up
    done = conversation.turn("작은방", session="s")
    assert done.result.as_dict()["actions"] == [{"device": "light_small", "command": "turn_off"}]


async def test_refused_command_says_why(conversation: Conversation) -> None:
    reply = await conversation.converse("거실 에어컨 35도로 맞춰 줘")
    assert reply.kind == "command"
    assert "18도에서 30도까지" in reply.text
    assert reply.done[0]["error"] == "error.temperature_out_of_range"
    assert reply.changed_devices == []


async def test_english_request_gets_an_english_reply(conversation: Conversation) -> None:
    reply = await conversation.converse("turn on the kitchen light")
    assert reply.language == "en"
    assert reply.text == "Turned on the kitchen light."


async def test_schedule_is_booked_with_the_hub(hub: Hub, conversation: Conversation) -> None:
    reply = await conversation.converse("30분 뒤에 티비 꺼 줘")
    assert reply.kind == "schedule"
    assert reply.text.startswith("30분 뒤에")
    pending = hub.scheduler.pending()
    assert len(pending) == 1
    assert pending[0].commands[0].device_id == "tv"
    assert pending[0].commands[0].source == "voice"


async def test_question_is_answered_from_state(hub: Hub, conversation: Conversation) -> None:
    off = await conversation.converse("거실 조명 켜져 있어?")
    assert off.text == "거실 조명은 꺼져 있어요."
    await conversation.converse("거실 조명 켜")
    on = await conversation.converse("거실 조명 켜져 있어?")
    assert on.text == "거실 조명은 켜져 있어요."


async def test_off_topic_is_declined(conversation: Conversation) -> None:
    reply = await conversation.converse("오늘 날씨 어때?")
    assert reply.kind == "none"
    assert reply.done == []
    assert "죄송해요" in reply.text
