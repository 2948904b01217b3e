"""Issue 16 in conversation: bookings listed and cancelled by voice, "둘 다" and "그럼 꺼 줘"
follow-ups, questions that never act, and over-long input refused — against a real hub with
virtual appliances and a SQLite file."""

from __future__ import annotations

from oneteam.hub import Hub
from oneteam.model.conversation import MAX_SENTENCE_CHARS
from oneteam.voice.dialog import Conversation
from tests.voice.test_dialog import conversation, eval_home, hub, understander  # noqa: F401


async def test_bookings_are_listed_and_the_latest_is_cancelled(
    hub: Hub,  # noqa: F811
    conversation: Conversation,  # noqa: F811
) -> None:
    assert (await conversation.converse("예약된 거 있어?")).kind == "schedule_list"
    assert hub.scheduler.pending() == []
    first = await conversation.converse("건조기 두 시간 뒤에 예약해 줘")
    second = await conversation.converse("세 시간 있다가 거실 불 꺼짐 예약")
    assert (first.kind, second.kind) == ("schedule", "schedule")
    assert len(hub.scheduler.pending()) == 2
    listed = await conversation.converse("예약 목록 알려 줘")
    assert listed.kind == "schedule_list"
    assert "2" in listed.text and "건조기" in listed.text
    cancelled = await conversation.converse("방금 예약 취소해 줘")
    assert cancelled.kind == "schedule_cancel"
    left = hub.scheduler.pending()
    assert [c.device_id for s in left for c in s.commands] == ["dryer"]  # the later booking went
    await conversation.converse("예약 전부 취소해")
    assert hub.scheduler.pending() == []


async def test_both_answers_a_question_asked_back(
    hub: Hub,  # noqa: F811
    conversation: Conversation,  # noqa: F811
) -> None:
    asked = await conversation.converse("에어컨 꺼 줘", session="s1")
    assert asked.kind == "clarify"
    both = await conversation.converse("둘 다", session="s1")
    assert both.kind == "command"
    assert {a["device"] for a in both.result["actions"]} == {"ac_living", "ac_bedroom"}


async def test_a_state_question_then_then_turn_it_off(
    hub: Hub,  # noqa: F811
    conversation: Conversation,  # noqa: F811
) -> None:
    await conversation.converse("안방 불 켜 줘", session="s2")
    asked = await conversation.converse("안방 불 켜져 있니?", session="s2")
    assert asked.kind == "query"
    assert hub.state("light_bedroom").get("power") is True
    follow = await conversation.converse("그럼 꺼 줘", session="s2")
    assert follow.kind == "command"
    assert follow.result["actions"] == [{"device": "light_bedroom", "command": "turn_off"}]
    # Without that question before it, the same words name nothing: ask back, do nothing.
    alone = await conversation.converse("그럼 꺼 줘", session="other")
    assert alone.kind == "clarify"


async def test_a_progressive_question_does_not_start_the_washer(
    hub: Hub,  # noqa: F811
    conversation: Conversation,  # noqa: F811
) -> None:
    before = hub.state("washer").get("run_state")
    reply = await conversation.converse("세탁기 지금 빨래하는 중이니")
    assert reply.kind == "query"
    assert reply.done == []
    assert hub.state("washer").get("run_state") == before


async def test_over_long_input_is_refused_with_a_reason(conversation: Conversation) -> None:  # noqa: F811
    reply = await conversation.converse("불 켜 " * (MAX_SENTENCE_CHARS // 3 + 1))
    assert reply.kind == "none"
    assert "길어요" in reply.text


async def test_a_mode_by_its_korean_name_works_at_every_door(hub: Hub) -> None:  # noqa: F811
    """The home file names the air conditioner's dry mode 제습: the hub takes that name from the
    REST API, the CLI or a schedule as it does by voice."""
    from oneteam.hub.scheduler import due_time
    from oneteam.model import Command

    await hub.dispatch(Command(device_id="ac_living", name="set_mode", value="제습", source="rest"))
    assert hub.state("ac_living").get("mode") == "dry"
    booked = await hub.scheduler.add(
        [Command(device_id="ac_bedroom", name="set_mode", value="송풍", source="rest")],
        due_time(delay_s=600),
        "rest",
    )
    assert [c.value for c in booked.commands] == ["fan"]
