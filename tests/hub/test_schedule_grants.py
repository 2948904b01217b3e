"""A schedule runs only while whoever booked it may still do it: the booking keeps its grant and
the hub checks it again when it falls due.

A real hub (demo home, virtual appliances, SQLite file) with the Korean conversation agent behind
uvicorn; bookings are made over REST, tokens revoked by the real CLI or through REST's hub, and
ten minutes pass in a fraction of a second on the scheduler's scaled clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.scheduler import ScaledClock
from oneteam.hub.storage import EventQuery
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Door, EventKind, Grant, PermissionDenied
from oneteam.model.schedule import Schedule
from oneteam.voice.dialog import Conversation
from tests.conftest import oneteam_cli
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

BOOKING = "삼십 분 뒤에 주방 불 켜 줘"


@dataclass
class Served:
    hub: Hub
    url: str
    data_dir: Path


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))  # where `oneteam token` looks
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        hub.set_conversation_agent(Conversation(hub))
        async with Serve(create_app(hub)) as api:
            yield Served(hub, api.url, tmp_path)


async def _book(served: Served, token: str) -> Schedule:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        reply = await client.post(f"{served.url}/api/conversation", json={"text": BOOKING})
        assert reply.status_code == 200, reply.text
        assert reply.json()["kind"] == "schedule", reply.json()
    [schedule] = served.hub.scheduler.pending()
    assert schedule.grant is not None and schedule.grant.principal == "token:tablet"
    return schedule


async def _let_half_an_hour_pass(hub: Hub, schedule_id: int) -> dict[str, object]:
    """Run the scheduler's clock 3,600 times faster until the schedule has run; its outcome."""
    async with hub.subscribe("test") as events:
        hub.scheduler.set_clock(ScaledClock(3600))
        async with asyncio.timeout(10):
            async for event in events:
                if event.kind is EventKind.SCHEDULE_DONE and event.data["id"] == schedule_id:
                    return dict(event.data)
    raise AssertionError("the schedule never ran")


async def _token_id(hub: Hub, name: str) -> int:
    return next(r.id for r in await hub.storage.tokens() if r.name == name)


async def test_a_booking_runs_under_its_token_while_the_token_lives(served: Served) -> None:
    """The control: without a revocation the same booking turns the light on, as its booker."""
    token = await served.hub.create_token("tablet")
    schedule = await _book(served, token)
    done = await _let_half_an_hour_pass(served.hub, schedule.id)
    assert done["status"] == "done"
    assert served.hub.state("light_kitchen").attributes["power"] is True
    [command] = await served.hub.events(EventQuery(device_id="light_kitchen", kinds=(EventKind.COMMAND,)))
    assert command.source == "rest:token:tablet"


async def test_a_token_revoked_by_the_cli_stops_its_bookings(served: Served) -> None:
    token = await served.hub.create_token("tablet")
    schedule = await _book(served, token)
    revoked = oneteam_cli(
        "token", "revoke", str(await _token_id(served.hub, "tablet")), "--data-dir", str(served.data_dir)
    )
    assert revoked.returncode == 0, revoked.stderr
    done = await _let_half_an_hour_pass(served.hub, schedule.id)
    assert done["status"] == "failed"
    assert done["failures"] == ["light_kitchen: error.booking_revoked"]
    assert served.hub.state("light_kitchen").attributes["power"] is False
    [failed] = await served.hub.events(
        EventQuery(device_id="light_kitchen", kinds=(EventKind.COMMAND_FAILED, EventKind.COMMAND))
    )
    assert failed.kind is EventKind.COMMAND_FAILED
    assert failed.data["error"] == "error.booking_revoked" and failed.data["schedule"] == schedule.id
    assert failed.source == "rest:token:tablet"
    assert served.hub.scheduler.pending() == []


async def test_a_booking_of_a_token_revoked_while_the_hub_was_down_does_not_run(tmp_path: Path) -> None:
    """The grant is stored with the schedule: a restarted hub checks it too."""
    home = load_home(DEMO_HOME)
    first = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await first.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with first:
        first.set_conversation_agent(Conversation(first))
        token = await first.create_token("tablet")
        async with Serve(create_app(first)) as api:
            schedule = await _book(Served(first, api.url, tmp_path), token)
        token_id = await _token_id(first, "tablet")
    cli = oneteam_cli("token", "revoke", str(token_id), "--data-dir", str(tmp_path))
    assert cli.returncode == 0, cli.stderr
    second = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await second.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with second:
        [stored] = second.scheduler.pending()
        assert stored.grant is not None and stored.grant.token_id == token_id
        done = await _let_half_an_hour_pass(second, schedule.id)
        assert done["status"] == "failed"
        assert second.state("light_kitchen").attributes["power"] is False


async def test_limits_the_booking_was_made_under_still_hold_when_it_runs(served: Served) -> None:
    """A grant limited to one device books only that device, and its stored limits are applied
    again at run time (a stored booking edited to another device is refused by dispatch)."""
    hub = served.hub
    token = await hub.create_token("kitchen-only")
    record = next(r for r in await hub.storage.tokens() if r.name == "kitchen-only")
    assert await hub.authenticate(token) == record
    grant = Grant(
        principal="token:kitchen-only",
        door=Door.MCP,
        devices=frozenset({"light_kitchen"}),
        token_id=record.id,
    )
    with pytest.raises(PermissionDenied):
        await hub.scheduler.add(
            [Command(device_id="light_living", name="turn_on")], time.time() + 600, "x", grant=grant
        )
    booked = await hub.scheduler.add(
        [Command(device_id="light_kitchen", name="turn_on")], time.time() + 600, "x", grant=grant
    )
    assert booked.source == "mcp:token:kitchen-only"
    # Another process rewrites the stored booking to a device outside the grant; the hub reloads it.
    await hub.storage.finish_schedule(booked.id, "cancelled")
    sneaked = await hub.storage.add_schedule(
        time.time() + 600, [{"device": "light_living", "command": "turn_on"}], booked.source, grant=grant
    )
    await hub.scheduler.load()
    done = await _let_half_an_hour_pass(hub, sneaked)
    assert done["status"] == "failed" and done["failures"] == ["light_living: error.forbidden"]
    assert hub.state("light_living").attributes["power"] is False


async def _book_as(served: Served, bearer: str) -> Schedule:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=60) as client:
        reply = await client.post(f"{served.url}/api/conversation", json={"text": BOOKING})
        assert reply.status_code == 200, reply.text
        assert reply.json()["kind"] == "schedule", reply.json()
    [schedule] = served.hub.scheduler.pending()
    return schedule


async def test_a_members_booking_follows_what_the_member_may_do_when_it_runs(served: Served) -> None:
    """A child books with her token; the owner then narrows her rooms: the booking is refused
    (error.forbidden) when it falls due, as her own request would be then."""
    household = served.hub.household
    await household.ensure_owner("mom")
    await household.add_member("minji", "child", by=None, password="minji-pass")
    _, token = await household.create_token("minji", "tablet", by=None)
    schedule = await _book_as(served, token)
    assert schedule.grant is not None and schedule.grant.principal == "member:minji"
    assert "light_kitchen" in (schedule.grant.devices or ())
    await household.update_member("minji", by=None, overrides={"rooms": ["small_room"]})
    done = await _let_half_an_hour_pass(served.hub, schedule.id)
    assert done["status"] == "failed" and done["failures"] == ["light_kitchen: error.forbidden"]
    assert served.hub.state("light_kitchen").attributes["power"] is False


async def test_a_removed_members_session_booking_does_not_run(served: Served) -> None:
    household = served.hub.household
    await household.ensure_owner("mom")
    await household.add_member("dad", "adult", by=None, password="dad-secret-1")
    session, _, _ = await household.sign_in("dad", "dad-secret-1")
    schedule = await _book_as(served, session)
    assert schedule.grant is not None and schedule.grant.principal == "member:dad"
    await household.remove_member("dad", by=None)
    done = await _let_half_an_hour_pass(served.hub, schedule.id)
    assert done["status"] == "failed" and done["failures"] == ["light_kitchen: error.booking_revoked"]
    assert served.hub.state("light_kitchen").attributes["power"] is False
