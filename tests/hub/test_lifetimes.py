"""Start and stop paths of the hub: a failed start leaves nothing running, a failing commit fails
the waiting commands instead of hanging them, and the writer keeps going afterwards."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.adapter import AdapterSink
from oneteam.hub.group_commit import StorageFailed
from oneteam.i18n import render
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Device, Event, State


class _BrokenCommit(SqliteStorage):
    """Real SQLite, except that a commit raises an error no backend lists while `broken` is set."""

    broken = False

    async def _commit(self, states: list[State], events: list[Event]) -> None:
        if self.broken:
            raise RuntimeError("disk controller reset")
        await super()._commit(states, events)


class _FailsToStart:
    name = "broken"

    def __init__(self) -> None:
        self.stopped = False

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        raise RuntimeError("cannot start")

    async def devices(self) -> Sequence[Device]:
        return []

    async def execute(self, command: Command) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True


async def test_an_unexpected_commit_error_fails_the_waiting_command_and_the_writer_goes_on(
    tmp_path: Path, fixture_home_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="oneteam.hub.group_commit")
    home = load_home(fixture_home_path)
    storage = _BrokenCommit(tmp_path / "hub.sqlite3")
    hub = Hub(home, storage)
    await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
    async with hub:
        storage.broken = True
        with pytest.raises(StorageFailed) as failed:
            async with asyncio.timeout(5):  # before the fix this waited forever
                await hub.dispatch(Command(device_id="ac_bedroom", name="turn_on"))
        assert "RuntimeError: disk controller reset" in str(failed.value)
        assert "disk controller reset" in render(failed.value.key, "en", **failed.value.params)
        assert "storage write failed unexpectedly" in caplog.text
        storage.broken = False
        state = await hub.dispatch(Command(device_id="ac_bedroom", name="set_temperature", value=27))
        assert state.attributes["temperature"] == 27
    reopened = SqliteStorage(tmp_path / "hub.sqlite3")
    await reopened.open()
    try:
        stored = await reopened.load_states()
    finally:
        await reopened.close()
    assert stored["ac_bedroom"].attributes["temperature"] == 27


async def test_a_hub_whose_adapter_fails_to_start_stops_the_others_and_closes_storage(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    home = load_home(fixture_home_path)
    storage = SqliteStorage(tmp_path / "hub.sqlite3")
    hub = Hub(home, storage)
    virtual = VirtualAdapter(home, tick_s=0.01)
    broken = _FailsToStart()
    await hub.add_adapter(virtual)
    await hub.add_adapter(broken)
    with pytest.raises(RuntimeError, match="cannot start"):
        await hub.__aenter__()
    assert not virtual.supervisor.is_running and broken.stopped
    assert not storage._writes.is_running and storage._connection is None
    assert hub.supervisor.names() == []
    # Nothing is left on the loop: only this test's own task runs.
    await asyncio.sleep(0.05)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
