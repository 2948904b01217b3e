from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.scheduler import due_time
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, EventKind, InvalidValue


async def test_a_delayed_command_runs_when_due(hub: Hub) -> None:
    async with hub.subscribe("t") as events:
        schedule = await hub.scheduler.add(
            [Command(device_id="light_living", name="turn_on", source="voice")], time.time() + 0.2, "voice"
        )
        assert [s.id for s in hub.scheduler.pending()] == [schedule.id]
        async with asyncio.timeout(5):
            async for event in events:
                if event.kind is EventKind.SCHEDULE_DONE:
                    break
    assert event.data["status"] == "done"
    assert hub.state("light_living").attributes["power"] is True
    assert hub.scheduler.pending() == []


async def test_an_invalid_scheduled_command_is_refused_at_once(hub: Hub) -> None:
    with pytest.raises(InvalidValue):
        await hub.scheduler.add(
            [Command(device_id="ac_living", name="set_temperature", value=50)], time.time() + 60, "t"
        )
    assert hub.scheduler.pending() == []


async def test_a_schedule_survives_a_restart_and_runs_once(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    first = Hub(home, SqliteStorage(tmp_path / "h.sqlite3"))
    await first.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with first:
        await first.scheduler.add(
            # Volume needs a TV that is on (docs/state-rules.md).
            [Command(device_id="tv", name="turn_on"), Command(device_id="tv", name="set_volume", value=33)],
            time.time() + 0.3,
            "voice",
        )
    await asyncio.sleep(0.4)  # falls due while the hub is down
    second = Hub(home, SqliteStorage(tmp_path / "h.sqlite3"))
    await second.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with second:
        async with asyncio.timeout(5):
            while second.state("tv").attributes.get("volume") != 33:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        assert second.scheduler.pending() == []
    third = Hub(home, SqliteStorage(tmp_path / "h.sqlite3"))
    async with third:
        assert third.scheduler.pending() == []


def test_at_time_is_the_next_such_local_time() -> None:
    zone = ZoneInfo("Asia/Seoul")
    morning = dt.datetime(2026, 11, 24, 9, 0, tzinfo=zone).timestamp()
    evening = due_time(at="19:00", now=morning)
    assert evening - morning == 10 * 3600
    tomorrow = due_time(at="08:30", now=morning)
    assert tomorrow - morning == 23.5 * 3600
    assert due_time(delay_s=600, now=morning) == morning + 600


@pytest.mark.parametrize(
    ("delay_s", "at"), [(None, None), (0, None), (8 * 86400, None), (None, "25:00"), (None, "7pm")]
)
def test_bad_schedule_times_are_refused(delay_s: float | None, at: str | None) -> None:
    with pytest.raises(InvalidValue):
        due_time(delay_s=delay_s, at=at)
