"""A home's device that its integration has not announced again yet answers "unavailable" (503),
not "unknown device" (404): a cluster home just taken over by another process is served before
its MQTT devices attach (cluster/host.py sets `Registry.awaited`), and the device exists in the
home all along (its state is stored).

Two hub lives over one real SQLite file, as the old and the new owner of a home: the first has
the plug's integration and commands it; the second starts without it, as a survivor serving the
home before its devices reconnect, and the plug's integration attaches later.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, DeviceNotFound, DeviceUnavailable
from tests.web.inprocess import PlugAdapter

COMMAND = "/api/devices/plug_living/commands"


async def _second_life(tmp_path: Path, home_path: Path) -> Hub:
    """The home's second hub over the same SQLite file, without the plug's integration (not yet
    started); the first life had the plug and commanded it, so its state is stored."""
    home = load_home(home_path)
    first = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await first.add_adapter(PlugAdapter())
    async with first:
        await first.dispatch(Command(device_id="plug_living", name="turn_on"))
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home))
    return hub


async def test_a_device_awaited_from_its_integration_answers_unavailable_then_works(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    hub = await _second_life(tmp_path, fixture_home_path)
    async with hub:
        token = await hub.create_token("test")
        app = create_app(hub)
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "ko"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
            # Not awaited: nothing says the plug is coming back, so it is unknown here.
            gone = await client.post(COMMAND, json={"command": "turn_off"}, headers=headers)
            assert gone.status_code == 404, gone.text

            hub.registry.awaited = set(hub.registry.stored_states) - {d.id for d in hub.devices()}
            assert hub.registry.awaited == {"plug_living"}
            waiting = await client.post(COMMAND, json={"command": "turn_off"}, headers=headers)
            assert waiting.status_code == 503, waiting.text
            error = waiting.json()["error"]
            assert error["key"] == "error.device_unavailable"
            assert "plug_living" in error["message"] and "연결할 수 없어요" in error["message"]
            # The OpenAPI spec declares the 503 for this route.
            spec = (await client.get("/openapi.json")).json()
            assert "503" in spec["paths"]["/api/devices/{device_id}/commands"]["post"]["responses"]

            await hub.add_adapter(PlugAdapter())  # the integration attaches: the plug is back
            assert hub.registry.awaited == set()
            back = await client.post(COMMAND, json={"command": "turn_off"}, headers=headers)
            assert back.status_code == 200, back.text
            assert back.json()["state"]["attributes"]["power"] is False


async def test_devices_expected_back_are_unknown_again_once_the_wait_is_over(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    hub = await _second_life(tmp_path, fixture_home_path)
    async with hub:
        assert hub.registry.expect_back(0.2) == {"plug_living"}
        with pytest.raises(DeviceUnavailable):
            await hub.dispatch(Command(device_id="plug_living", name="turn_off"))
        await asyncio.sleep(0.4)
        with pytest.raises(DeviceNotFound):  # never came back: forgotten or gone
            await hub.dispatch(Command(device_id="plug_living", name="turn_off"))


async def test_an_awaited_device_the_household_renamed_is_named_in_the_answer(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    home = load_home(fixture_home_path)
    first = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await first.add_adapter(PlugAdapter())
    async with first:
        await first.dispatch(Command(device_id="plug_living", name="turn_on"))
        await first.edit_device("plug_living", name="커피 머신 플러그", room=None, hidden=None)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    async with hub:
        assert hub.registry.expect_back(30) == {"plug_living"}
        with pytest.raises(DeviceUnavailable) as waiting:
            await hub.dispatch(Command(device_id="plug_living", name="turn_off"))
        assert waiting.value.params["name"] == "커피 머신 플러그"
