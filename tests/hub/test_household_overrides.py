"""The household's changes to devices (rename, move to another room, hide, remove) on SQLite and on a
real PostgreSQL server alike: kept across a restart, laid over the device when its integration
announces it again, and followed by what a member may use (a device moved into the child's room
joins the child's devices)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from oneteam.hub import Hub, Storage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import DeviceNotFound, Door
from tests.interop.smarthome.conftest import DEMO_HOME


@asynccontextmanager
async def _hub(make_storage: Callable[[], Storage]) -> AsyncIterator[Hub]:
    home = load_home(DEMO_HOME)
    running = Hub(home, make_storage())
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        yield running


async def test_rename_move_hide_and_remove_are_kept_across_a_restart(
    make_storage: Callable[[], Storage],
) -> None:
    async with _hub(make_storage) as hub:
        await hub.household.ensure_owner("mom")
        await hub.household.add_member("minji", "child", by=None, overrides={"rooms": ["small_room"]})
        minji = await hub.household.member("minji")
        before = minji.grant(Door.REST, hub.devices()).devices
        assert before == frozenset({"light_small"})
        renamed = await hub.edit_device(
            "light_living", name="  소파   스탠드 ", room="small_room", source="test"
        )
        assert (renamed.name_in("ko"), renamed.room) == ("소파 스탠드", "small_room")
        await hub.edit_device("tv", hidden=True, source="test")
        assert await hub.remove_device("washer", source="test") is False  # a home-file device: hidden
        # What the child may use follows the move at once.
        assert await hub.household.member_devices("minji") == frozenset({"light_small", "light_living"})

    async with _hub(make_storage) as hub:  # a restart on the same database
        light = hub.device("light_living")
        assert (light.name_in("ko"), light.room) == ("소파 스탠드", "small_room")
        tv, washer = hub.device_override("tv"), hub.device_override("washer")
        assert tv is not None and tv.hidden and not tv.removed
        assert washer is not None and washer.hidden and washer.removed
        assert await hub.household.member_devices("minji") == frozenset({"light_small", "light_living"})
        # The integration announcing the light again does not undo the household's change.
        original = load_home(DEMO_HOME).devices["light_living"]
        hub.registry.register(original, hub.registry.owner("light_living"), announce=True)
        assert hub.device("light_living").room == "small_room"
        assert hub.device("light_living").name_in("ko") == "소파 스탠드"
        # Showing the washer again clears its removal, and that is kept too.
        await hub.edit_device("washer", hidden=False, source="test")
        with pytest.raises(DeviceNotFound):
            await hub.edit_device("no_such_device", name="x", source="test")

    async with _hub(make_storage) as hub:
        washer = hub.device_override("washer")
        assert washer is None or (not washer.hidden and not washer.removed)
        assert hub.device("light_living").room == "small_room"
