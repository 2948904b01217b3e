from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from oneteam.hub import EventQuery, Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Event, EventKind


async def _run(path: Path, home_path: Path, commands: list[Command]) -> dict[str, object]:
    home = load_home(home_path)
    hub = Hub(home, SqliteStorage(path))
    await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with hub:
        for command in commands:
            await hub.dispatch(command)
        return {d: dict(s.attributes) for d, s in hub.states().items()}


async def test_restarting_restores_every_devices_last_state(tmp_path: Path, fixture_home_path: Path) -> None:
    db = tmp_path / "hub.sqlite3"
    first = await _run(
        db,
        fixture_home_path,
        [
            Command(device_id="ac_bedroom", name="set_temperature", value=26),
            Command(device_id="washer", name="set_mode", value="wool"),
            Command(device_id="light_kitchen", name="set_brightness", value=35),
        ],
    )
    second = await _run(db, fixture_home_path, [])
    assert second == first
    assert second["ac_bedroom"]["temperature"] == 26 and second["washer"]["mode"] == "wool"


async def test_the_file_is_in_wal_mode_and_holds_only_token_hashes(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    async with hub:
        token = await hub.create_token("test")
        assert await hub.check_token(token)
        assert not await hub.check_token(token + "x")
    connection = sqlite3.connect(tmp_path / "hub.sqlite3")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    stored = [row[0] for row in connection.execute("SELECT token_hash FROM tokens")]
    assert stored and token not in stored and len(stored[0]) == 64


async def test_retention_removes_old_events_only(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"), event_retention_s=3600)
    async with hub:
        hub.publish(Event(kind=EventKind.ALERT, data={"n": "old"}, at=time.time() - 7200))
        hub.publish(Event(kind=EventKind.ALERT, data={"n": "new"}))
        await hub.storage.flush()
        removed = await hub.storage.prune_events(time.time() - 3600)
        kept = await hub.events(EventQuery(kinds=(EventKind.ALERT,)))
    assert removed == 1
    assert [e.data["n"] for e in kept] == ["new"]


async def test_event_ids_continue_after_a_restart(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    for _ in range(2):
        hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
        async with hub:
            hub.publish(Event(kind=EventKind.ALERT))
    storage = SqliteStorage(tmp_path / "hub.sqlite3")
    await storage.open()
    try:
        ids = [e.id for e in await storage.events(EventQuery())]
    finally:
        await storage.close()
    assert ids == [2, 1]


async def test_a_token_revoked_elsewhere_stops_working_without_a_restart(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    from oneteam.hub.tokens import hash_token, new_token

    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    cli = SqliteStorage(tmp_path / "hub.sqlite3")  # another connection, as the CLI's process has
    async with hub:
        await cli.open()
        try:
            token = new_token()  # made by the CLI, straight into storage
            record = await cli.add_token("cli", hash_token(token), time.time())
            assert await hub.check_token(token)
            assert await hub.check_token(token)  # now remembered
            assert await cli.revoke_token(record.id)
            assert not await hub.check_token(token)  # the very next check, no waiting
        finally:
            await cli.close()


async def test_closing_while_a_cancelled_batch_still_runs_in_its_thread_waits_for_it(tmp_path: Path) -> None:
    # A batch over the inline limit is written in a worker thread; cancelling the writer task does
    # not stop that thread. Closing the file under it crashed the interpreter (SIGSEGV in CI).
    storage = SqliteStorage(tmp_path / "hub.db")
    await storage.open()
    events = [
        Event(id=i, kind=EventKind.STATE_CHANGED, device_id="d", source="test", data={"n": "x" * 200}, at=1.0)
        for i in range(1, 40_001)
    ]
    await asyncio.to_thread(storage._write, [], events[:1])  # the file exists and has a row
    writing = asyncio.ensure_future(asyncio.to_thread(storage._write, [], events))
    for _ in range(10_000):  # until the thread holds the connection (slow under a loaded machine)
        if storage._lock.locked():
            break
        await asyncio.sleep(0.001)
    assert storage._lock.locked(), "the write never started"
    writing.cancel()
    await storage.close()  # must wait for the thread's COMMIT, not close under it
    rows = sqlite3.connect(tmp_path / "hub.db").execute("SELECT COUNT(*) FROM events").fetchone()
    assert rows[0] == 40_000
