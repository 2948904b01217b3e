"""What a one-sentence set cannot hold: schedules listed and cancelled by voice, and follow-ups
("둘 다" to an open question, "그럼 꺼 줘" after a state question), through a real hub.

The hub is the product's (SQLite file, virtual appliances, its scheduler); the conversation is
the hub's `Conversation` agent over the fixture home.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Home
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import Action, Understander
from tests.voice.nlu.test_questions_never_act import question_grid


@pytest.fixture(scope="module")
def understander(home: Home) -> Understander:
    return Understander(home)


@pytest.fixture
async def hub(tmp_path: Path, home: Home) -> AsyncIterator[Hub]:
    running = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


@pytest.fixture
def conversation(hub: Hub, understander: Understander) -> Conversation:
    return Conversation(hub, understander)


async def _book(conversation: Conversation, text: str) -> None:
    reply = await conversation.converse(text, session="s")
    assert reply.kind == "schedule", reply


def _booked(hub: Hub) -> list[tuple[str, str]]:
    return [(c.device_id, c.name) for s in hub.scheduler.pending() for c in s.commands]


# -- schedules by voice -----------------------------------------------------------------------


async def test_asking_what_is_booked_lists_pending_schedules(hub: Hub, conversation: Conversation) -> None:
    await _book(conversation, "40분 뒤에 티비 꺼 줘")
    await _book(conversation, "두 시간 뒤에 거실 불 켜 줘")
    reply = await conversation.converse("지금 잡혀 있는 예약 뭐 있어?", session="s")
    assert reply.kind not in ("command", "schedule", "none"), reply
    for device in ("tv", "light_living"):  # each booking is named, by any name the home gives it
        assert any(name in reply.text for name in hub.home.devices[device].names), reply.text
    assert reply.changed_devices == []
    assert len(hub.scheduler.pending()) == 2  # asking changes nothing


async def test_cancelling_the_last_booking_cancels_only_that_one(
    hub: Hub, conversation: Conversation
) -> None:
    await _book(conversation, "세 시간 뒤에 세탁기 돌려 줘")
    await _book(conversation, "40분 뒤에 티비 꺼 줘")  # booked last, due first
    reply = await conversation.converse("방금 잡은 예약 취소해 줘", session="s")
    assert reply.kind not in ("schedule", "none"), reply
    assert _booked(hub) == [("washer", "start")]
    assert reply.changed_devices == []


async def test_cancelling_with_nothing_booked_does_nothing(hub: Hub, conversation: Conversation) -> None:
    reply = await conversation.converse("방금 잡은 예약 취소해 줘", session="s")
    assert reply.kind not in ("command", "schedule")
    assert reply.changed_devices == []
    assert hub.scheduler.pending() == []


async def test_asking_what_is_booked_books_nothing(hub: Hub, conversation: Conversation) -> None:
    reply = await conversation.converse("예약해 둔 거 있나?", session="s")
    assert reply.kind not in ("command", "schedule")
    assert hub.scheduler.pending() == []


# -- follow-ups ---------------------------------------------------------------------------------


async def test_both_answers_a_clarify_with_every_candidate(hub: Hub, conversation: Conversation) -> None:
    for ac in ("ac_living", "ac_bedroom"):
        await hub.dispatch(Action(device=ac, command="turn_on").to_command())
    first = await conversation.converse("에어컨 꺼 줘", session="s")
    assert first.kind == "clarify"
    assert set(first.result["candidates"]) == {"ac_living", "ac_bedroom"}
    second = await conversation.converse("둘 다", session="s")
    assert second.kind == "command"
    assert sorted(second.changed_devices) == ["ac_bedroom", "ac_living"]
    assert hub.state("ac_living").get("power") is False
    assert hub.state("ac_bedroom").get("power") is False


async def test_both_without_an_open_question_does_nothing(hub: Hub, conversation: Conversation) -> None:
    for ac in ("ac_living", "ac_bedroom"):
        await hub.dispatch(Action(device=ac, command="turn_on").to_command())
    reply = await conversation.converse("둘 다 꺼 줘", session="s")
    assert reply.kind not in ("command", "schedule")
    assert hub.state("ac_living").get("power") is True
    assert hub.state("ac_bedroom").get("power") is True


async def test_both_in_another_session_does_not_complete(hub: Hub, conversation: Conversation) -> None:
    for ac in ("ac_living", "ac_bedroom"):
        await hub.dispatch(Action(device=ac, command="turn_on").to_command())
    assert (await conversation.converse("에어컨 꺼 줘", session="kitchen")).kind == "clarify"
    reply = await conversation.converse("둘 다", session="bedroom")
    assert reply.kind not in ("command", "schedule")
    assert hub.state("ac_living").get("power") is True


async def test_turn_it_off_after_asking_whether_it_is_on(hub: Hub, conversation: Conversation) -> None:
    await hub.dispatch(Action(device="light_small", command="turn_on").to_command())
    asked = await conversation.converse("작은방 불 아직 켜져 있니?", session="s")
    assert asked.kind == "query"
    assert hub.state("light_small").get("power") is True  # the question itself did nothing
    reply = await conversation.converse("그럼 꺼 줘", session="s")
    assert reply.kind == "command"
    assert reply.result["actions"] == [{"device": "light_small", "command": "turn_off"}]
    assert hub.state("light_small").get("power") is False


async def test_stop_it_after_asking_whether_a_cycle_runs(hub: Hub, conversation: Conversation) -> None:
    await hub.dispatch(Action(device="washer", command="start").to_command())
    asked = await conversation.converse("세탁기 아직 돌아가는 중이야?", session="s")
    assert asked.kind == "query"
    assert asked.changed_devices == []
    reply = await conversation.converse("그럼 꺼 줘", session="s")
    assert reply.kind == "command"
    assert reply.result["actions"] == [{"device": "washer", "command": "stop"}]


async def test_turn_it_off_with_no_question_before_acts_on_nothing(
    hub: Hub, conversation: Conversation
) -> None:
    await hub.dispatch(Action(device="light_small", command="turn_on").to_command())
    await conversation.converse("작은방 불 아직 켜져 있니?", session="one")
    reply = await conversation.converse("그럼 꺼 줘", session="two")  # another speaker asked
    assert reply.kind not in ("command", "schedule")
    assert hub.state("light_small").get("power") is True


async def test_cancelling_a_named_device_booking_keeps_the_others(
    hub: Hub, conversation: Conversation
) -> None:
    await _book(conversation, "세 시간 뒤에 세탁기 돌려 줘")
    await _book(conversation, "40분 뒤에 티비 꺼 줘")
    reply = await conversation.converse("세탁기 예약 취소해 줘", session="s")
    assert reply.kind not in ("schedule", "none"), reply
    assert _booked(hub) == [("tv", "turn_off")]
    assert reply.changed_devices == []


async def test_both_when_more_than_two_were_offered_does_not_act(
    hub: Hub, conversation: Conversation
) -> None:
    for light in ("light_living", "light_bedroom", "light_kitchen", "light_small"):
        await hub.dispatch(Action(device=light, command="turn_on").to_command())
    first = await conversation.converse("불 꺼 줘", session="s")
    assert first.kind == "clarify"
    assert len(first.result["candidates"]) > 2
    reply = await conversation.converse("둘 다", session="s")  # which two? not something to guess
    assert reply.kind not in ("command", "schedule")
    assert all(hub.state(light).get("power") is True for light in ("light_living", "light_small"))


async def test_pause_it_after_asking_how_long_is_left(hub: Hub, conversation: Conversation) -> None:
    await hub.dispatch(Action(device="dryer", command="start").to_command())
    asked = await conversation.converse("건조기 얼마나 남았어?", session="s")
    assert asked.kind == "query"
    reply = await conversation.converse("그럼 잠깐 멈춰 줘", session="s")
    assert reply.kind == "command"
    assert reply.result["actions"] == [{"device": "dryer", "command": "pause"}]


async def test_turn_it_on_after_asking_whether_it_was_left_off(hub: Hub, conversation: Conversation) -> None:
    asked = await conversation.converse("내가 거실 티비 끄고 나왔나?", session="s")
    assert asked.kind == "query"
    assert hub.state("tv").get("power") is not True
    reply = await conversation.converse("그럼 다시 켜 줘", session="s")
    assert reply.kind == "command"
    assert reply.result["actions"] == [{"device": "tv", "command": "turn_on"}]
    assert hub.state("tv").get("power") is True


def test_a_question_while_a_request_is_open_does_not_complete_it(
    home: Home, conversation: Conversation
) -> None:
    """After "불 꺼 줘" → "어느 불이요?", a question naming a room or device is answered, not taken as
    the missing room of the open request (which would turn that light off)."""
    grid = question_grid(home)
    sample = grid[:: max(1, len(grid) // 400)]
    acted = []
    for n, (_, question) in enumerate(sample):
        opener = ("불 꺼 줘", "에어컨 꺼 줘", "청소기 멈춰", "불 켜 줘")[n % 4]
        session = f"s{n}"
        conversation.turn(opener, session=session)
        result = conversation.turn(question, session=session).result
        if result.kind in ("command", "schedule"):
            acted.append(f"{opener} / {question} → {result.as_dict()}")
    assert len(sample) >= 400
    assert acted == [], f"{len(acted)} of {len(sample)}:\n" + "\n".join(acted)
