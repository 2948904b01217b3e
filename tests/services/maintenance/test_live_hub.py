"""A worn virtual appliance warns through the real hub: telemetry → service → WARNING event → API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from oneteam.hub import EventQuery, Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import EventKind
from oneteam.services.maintenance import MaintenanceService, ModelStore


async def test_a_wearing_washer_raises_a_warning_on_the_bus(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    adapter = VirtualAdapter(home, tick_s=3600, wear_day_s=1.0, days_left={"washer": 22.0})
    await hub.add_adapter(adapter)
    async with hub:
        service = MaintenanceService(ModelStore(tmp_path / "models"), publish=hub.publish)
        await service.start()
        async with hub.subscribe("maintenance", maxsize=10_000) as events:
            watcher = asyncio.create_task(service.run(events))
            for _ in range(21):  # three weeks of use, one telemetry sample a day
                adapter.advance(1.0)
                await asyncio.sleep(0)
            await asyncio.sleep(0.05)
            watcher.cancel()
        warnings = await hub.events(EventQuery(kinds=(EventKind.WARNING,)))
    washer = [w for w in warnings if w.device_id == "washer"]
    assert washer, "no warning for the wearing washer"
    assert washer[-1].data["component"] == "drum_bearing"
    assert 0 < washer[-1].data["days_left"] <= 30
    assert "세탁기" in washer[-1].data["text"]["ko"] or "washer" in washer[-1].data["text"]["en"].lower()
    assert {w.device_id for w in warnings} <= {"washer", "fridge", "ac_living", "ac_bedroom"}
    telemetry = hub.state("washer").attributes
    assert "motor_current_a" in telemetry and "vibration_mm_s" in telemetry
