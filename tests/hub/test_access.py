"""Grants at the hub: a command or sentence outside the caller's grant is refused before it runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.conversation import DOOR_GRANT
from oneteam.hub.storage import EventQuery
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Door, EventKind, Grant, PermissionDenied
from oneteam.model.conversation import ConversationReply
from oneteam.voice.dialog import Conversation

DEMO_HOME = Path(__file__).resolve().parents[2] / "oneteam" / "homes" / "demo.yaml"


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    home = load_home(DEMO_HOME)
    running = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


def test_grant_limits_commands_devices_and_rooms() -> None:
    home = load_home(DEMO_HOME)
    washer, light = home.devices["washer"], home.devices["light_living"]
    lights_only = Grant(principal="token:t", door=Door.MCP, commands=frozenset({"turn_on"}))
    assert lights_only.permits(light, "turn_on")
    assert not lights_only.permits(washer, "start")
    living = Grant(principal="token:t", door=Door.REST, rooms=frozenset({"living_room"}))
    assert living.permits(light, "turn_off") and not living.permits(washer, "start")
    one = Grant(principal="token:t", door=Door.REST, devices=frozenset({"washer"}))
    assert one.permits(washer, "start") and not one.permits(light, "turn_on")
    narrowed = Grant(principal="token:t", door=Door.MCP).narrowed(commands=frozenset({"start"}))
    assert narrowed.permits(washer, "start") and not narrowed.permits(washer, "stop")
    assert narrowed.source == "mcp:token:t"


async def test_dispatch_refuses_outside_the_grant_and_logs_the_refusal(hub: Hub) -> None:
    grant = Grant(principal="token:agent", door=Door.MCP, commands=frozenset({"turn_on"}))
    with pytest.raises(PermissionDenied) as refused:
        await hub.dispatch(Command(device_id="washer", name="start"), grant=grant)
    assert refused.value.key == "error.forbidden"
    assert hub.state("washer").get("run_state") != "running"
    events = await hub.events(EventQuery(device_id="washer", kinds=(EventKind.COMMAND_FAILED,)))
    assert events[0].data["error"] == "error.forbidden"
    assert events[0].source == "mcp:token:agent"
    # The same command under a grant that covers it does run (so the refusal above is the grant's).
    await hub.dispatch(Command(device_id="washer", name="start"), grant=Grant(principal="p", door=Door.REST))
    assert hub.state("washer").get("run_state") == "running"


async def test_dispatch_stamps_the_source_from_the_grant_not_the_command(hub: Hub) -> None:
    grant = Grant(principal="token:kitchen-tablet", door=Door.REST)
    forged = Command(device_id="light_living", name="turn_on", source="partner:someone-else")
    await hub.dispatch(forged, grant=grant)
    events = await hub.events(EventQuery(device_id="light_living", kinds=(EventKind.COMMAND,)))
    assert events[0].source == "rest:token:kitchen-tablet"


async def test_a_sentence_outside_the_grant_is_refused_before_dispatch(hub: Hub) -> None:
    hub.set_conversation_agent(Conversation(hub))
    grant = Grant(principal="token:agent", door=Door.MCP, commands=frozenset({"turn_on"}))
    reply = await hub.converse("세탁기 돌려 줘", language="ko", grant=grant)
    assert reply.kind == "command"
    assert reply.done and reply.done[0]["error"] == "error.forbidden"
    assert "권한" in reply.text
    assert hub.state("washer").get("run_state") != "running"
    allowed = await hub.converse("거실 불 켜줘", language="ko", grant=grant)
    assert allowed.changed_devices == ["light_living"]
    events = await hub.events(EventQuery(device_id="light_living", kinds=(EventKind.COMMAND,)))
    assert events[0].source == "mcp:token:agent"


async def test_a_schedule_outside_the_grant_is_refused_at_booking(hub: Hub) -> None:
    hub.set_conversation_agent(Conversation(hub))
    grant = Grant(principal="token:agent", door=Door.MCP, commands=frozenset({"turn_on"}))
    reply = await hub.converse("10분 뒤에 세탁기 돌려 줘", language="ko", grant=grant)
    assert reply.kind == "schedule"
    assert reply.done and all(d.get("error") == "error.forbidden" for d in reply.done)
    assert hub.scheduler.pending() == []


async def test_a_door_grant_set_for_the_request_limits_converse(hub: Hub) -> None:
    """The voice socket sets DOOR_GRANT; sentences its pipeline hands to Hub.converse obey it."""
    hub.set_conversation_agent(Conversation(hub))
    grant = Grant(principal="token:speaker", door=Door.VOICE, commands=frozenset({"turn_on"}))

    async def one_voice_turn() -> ConversationReply:
        DOOR_GRANT.set(grant)
        return await hub.converse("세탁기 돌려 줘", language="ko")

    reply = await asyncio.create_task(one_voice_turn())
    assert reply.kind == "command" and reply.done[0]["error"] == "error.forbidden"
    assert hub.state("washer").get("run_state") != "running"
    assert DOOR_GRANT.get() is None  # set only inside that request's task
