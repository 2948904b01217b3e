from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter


@pytest.fixture
async def hub(tmp_path: Path, fixture_home_path: Path) -> AsyncIterator[Hub]:
    """A running hub over the fixture home with virtual appliances and a real SQLite file."""
    home = load_home(fixture_home_path)
    running = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running
