"""The storage contract, run against SQLite and a real PostgreSQL server alike."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from oneteam.hub import EventQuery, Hub, Storage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Event, EventKind


async def test_state_survives_a_restart(make_storage: Callable[[], Storage], fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    for step in range(2):
        hub = Hub(home, make_storage())
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        async with hub:
            if step == 0:
                await hub.dispatch(Command(device_id="ac_bedroom", name="set_temperature", value=27))
                await hub.dispatch(
                    Command(device_id="fridge", name="set_temperature", value=-21, target="freezer")
                )
            else:
                assert hub.state("ac_bedroom").attributes["temperature"] == 27
                assert hub.state("fridge").attributes["freezer_temperature"] == -21


async def test_events_tokens_homes_and_schedules(make_storage: Callable[[], Storage]) -> None:
    storage = make_storage()
    await storage.open()
    try:
        now = time.time()
        for i, kind in enumerate((EventKind.COMMAND, EventKind.STATE_CHANGED, EventKind.COMMAND), start=1):
            storage.put_event(
                Event(id=i, kind=kind, device_id="tv", data={"n": i}, source="t", at=now - 10 + i)
            )
        storage.put_event(Event(id=4, kind=EventKind.ALERT, data={"n": 4}, at=now - 7200))
        await storage.flush()
        commands = await storage.events(EventQuery(device_id="tv", kinds=(EventKind.COMMAND,)))
        assert [e.id for e in commands] == [3, 1] and commands[0].data["n"] == 3
        assert [e.id for e in await storage.events(EventQuery(before_id=3, limit=1))] == [2]
        assert await storage.last_event_id() == 4
        assert await storage.prune_events(now - 3600) == 1

        record = await storage.add_token("phone", "a" * 64, now)
        assert await storage.has_token_hash("a" * 64)
        assert [t.name for t in await storage.tokens()] == ["phone"]
        assert await storage.revoke_token(record.id) and not await storage.has_token_hash("a" * 64)

        await storage.save_home("home", "home.yaml", "rooms: {}\n")
        assert await storage.stored_home() == "rooms: {}\n"

        schedule_id = await storage.add_schedule(now + 60, [{"device": "tv", "command": "turn_on"}], "voice")
        pending = await storage.pending_schedules()
        assert [s.id for s in pending] == [schedule_id] and pending[0].commands[0].name == "turn_on"
        await storage.finish_schedule(schedule_id, "done")
        assert await storage.pending_schedules() == []
    finally:
        await storage.close()
