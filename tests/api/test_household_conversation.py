"""The talk box (REST /api/conversation, which MCP's `say` also reaches) answers a member only
about the devices their permissions show: a question about a hidden device is answered as if the
device were not there (REST answers 404 for it), an ask-back offers only shown devices, and
bookings of hidden devices are neither listed nor cancelled. A real hub behind uvicorn, real Kiwi."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oneteam.hub import Hub
from oneteam.i18n import render
from oneteam.voice.dialog import Conversation
from tests.api.household_home import PASSWORD, Member, Running, served_household


async def _talking(hub: Hub) -> None:
    agent = Conversation(hub)
    await asyncio.to_thread(agent.understander.warm_up)
    hub.set_conversation_agent(agent)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    members: list[Member] = [
        ("minji", "child", {"rooms": ["small_room"], "allow": ["tv"]}),
        ("visitor", "guest", None),
    ]
    async with served_household(tmp_path, members, prepare=_talking) as running:
        yield running


async def _say(running: Running, member: str, text: str, language: str = "ko") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=running.url, timeout=60) as client:
        session = await client.post("/api/session", json={"name": member, "password": PASSWORD})
        assert session.status_code == 200, session.text
        headers = {"Authorization": f"Bearer {session.json()['token']}"}
        answer = await client.post(
            "/api/conversation", json={"text": text, "language": language, "session": member}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        reply: dict[str, Any] = answer.json()
        return reply


@pytest.mark.parametrize(("member", "language"), [("minji", "ko"), ("visitor", "en")])
async def test_a_question_about_a_hidden_device_is_answered_as_if_it_were_not_there(
    running: Running, member: str, language: str
) -> None:
    owner = await _say(running, "mom", "세탁기 아직 돌아?", language)
    assert owner["kind"] == "query" and owner["result"]["device"] == "washer"
    reply = await _say(running, member, "세탁기 아직 돌아?", language)
    assert reply["kind"] == "none"
    assert reply["text"] == render("dialog.none_not_shown", language)
    assert "washer" not in json.dumps(reply)


async def test_an_ask_back_offers_only_shown_devices(running: Running) -> None:
    owner = await _say(running, "mom", "에어컨 꺼 줘")
    assert owner["kind"] == "clarify" and set(owner["result"]["candidates"]) == {"ac_living", "ac_bedroom"}
    child = await _say(running, "minji", "에어컨 꺼 줘")  # no air conditioner in her room
    assert child["kind"] == "none" and "ac_" not in json.dumps(child)
    await running.hub.household.update_member("visitor", by=None, overrides={"deny": ["ac_bedroom"]})
    guest = await _say(running, "visitor", "에어컨 꺼 줘")  # one left: that one is meant
    assert guest["kind"] == "command", guest
    assert [d["device"] for d in guest["done"]] == ["ac_living"]


async def test_bookings_of_hidden_devices_are_not_listed_or_cancelled(running: Running) -> None:
    booked = await _say(running, "mom", "30분 뒤에 세탁기 시작해 줘")
    assert booked["kind"] == "schedule", booked
    assert len(running.hub.scheduler.pending()) == 1
    listed = await _say(running, "mom", "예약 뭐 있어?")
    assert listed["text"] != render("dialog.schedules.none", "ko"), listed
    for member in ("minji", "visitor"):
        heard = await _say(running, member, "예약 뭐 있어?")
        assert heard["text"] == render("dialog.schedules.none", "ko"), heard
        cancel = await _say(running, member, "예약 다 취소해 줘")
        assert cancel["text"] == render("dialog.schedules.none", "ko"), cancel
    assert len(running.hub.scheduler.pending()) == 1
