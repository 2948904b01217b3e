"""The hub's data files are readable by their owner only (they hold token hashes, history, partners)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.storage import EventQuery
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command

DEMO_HOME = Path(__file__).resolve().parents[2] / "oneteam" / "homes" / "demo.yaml"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_database_and_its_wal_and_shm_are_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db = data_dir / "oneteam.sqlite3"
    home = load_home(DEMO_HOME)
    previous = os.umask(0o022)  # the usual default: files would be 0644
    try:
        hub = Hub(home, SqliteStorage(db))
        await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
        async with hub:
            await hub.create_token("phone")
            await hub.dispatch(Command(device_id="tv", name="turn_on"))
            assert await hub.events(EventQuery(device_id="tv"))
            companions = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
            assert all(p.exists() for p in companions)
            assert {p.name: _mode(p) for p in companions} == {p.name: 0o600 for p in companions}
    finally:
        os.umask(previous)
    assert _mode(data_dir) == 0o700


async def test_an_older_world_readable_database_is_made_private_on_open(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    storage = SqliteStorage(db)
    await storage.open()
    await storage.close()
    db.chmod(0o644)
    storage = SqliteStorage(db)
    await storage.open()
    try:
        assert _mode(db) == 0o600
    finally:
        await storage.close()
