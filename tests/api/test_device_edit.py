"""Renaming, moving, hiding and removing devices (PATCH/DELETE /api/devices/{id}) on a real hub
behind uvicorn, with a real SQLite file, MQTT devices through the embedded broker and the Korean
conversation agent: the changes survive a restart, rediscovery reads them back, and the NLU
answers to the new name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.i18n import render
from oneteam.integrations.mqtt.credentials import MqttCredentials
from oneteam.integrations.mqtt.service import mqtt_for_hub
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import EventKind
from oneteam.voice.dialog import Conversation
from tests.integrations.mqtt.conftest import eventually
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

PASSWORD = "a long enough password"
CREDENTIALS = MqttCredentials.generate()
SIM_LIGHT = "sim_light_00000"


@asynccontextmanager
async def _running(db: Path) -> AsyncIterator[tuple[Hub, str]]:
    """A hub on `db` with the demo home, one simulated MQTT light, conversation and members."""
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(db))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub, mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS) as settings:
        login = CREDENTIALS.devices
        devices = BrokerSettings(
            host=settings.host, port=settings.port, username=login.username, password=login.password
        )
        async with Simulator(devices, 1, per_gateway=1):
            await eventually(lambda: hub.registry.knows(SIM_LIGHT), timeout_s=20)
            hub.set_conversation_agent(Conversation(hub))
            if not (await hub.household.members()):
                await hub.household.ensure_owner("mom")
                await hub.household.update_member("mom", by=None, password=PASSWORD)
                await hub.household.add_member("dad", "adult", by=None, password=PASSWORD)
                await hub.household.add_member("minji", "child", by=None, password=PASSWORD)
                await hub.household.add_member("visitor", "guest", by=None, password=PASSWORD)
            async with Serve(create_app(hub)) as api:
                yield hub, api.url


@asynccontextmanager
async def _as(url: str, name: str, language: str = "ko") -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, headers={"Accept-Language": language}, timeout=30) as client:
        answer = await client.post("/api/session", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


def _listed(body: dict, device_id: str) -> dict:  # type: ignore[type-arg]
    return next(d for d in body["devices"] if d["id"] == device_id)


async def test_rename_move_hide_and_remove_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    async with _running(db) as (hub, url), _as(url, "dad") as client:
        assert hub.device(SIM_LIGHT).room is None  # an MQTT device lands in no room
        async with hub.subscribe("test") as events:
            placed = await client.patch(
                f"/api/devices/{SIM_LIGHT}", json={"name": "현관 조명", "room": "kitchen"}
            )
            assert placed.status_code == 200, placed.text
            event = await events.get()
            while event.kind is not EventKind.DEVICE_CHANGED:
                event = await events.get()
        assert event.device_id == SIM_LIGHT and event.data["name"] == "현관 조명"
        assert placed.json()["room"] == "kitchen" and placed.json()["name"] == "현관 조명"
        moved = await client.patch(
            "/api/devices/light_living", json={"name": "소파 조명", "room": "small_room"}
        )
        assert moved.status_code == 200, moved.text
        hidden = await client.patch("/api/devices/tv", json={"hidden": True})
        assert hidden.json()["hidden"] is True
        removed = await client.delete("/api/devices/washer")
        assert removed.json() == {
            "ok": True,
            "forgotten": False,
            "message": render("device_edit.home_file_note", "ko"),
        }
        # The NLU takes the new name at once.
        said = await client.post("/api/conversation", json={"text": "소파 조명 켜 줘"})
        assert said.status_code == 200, said.text
        assert hub.state("light_living").get("power") is True
        # A hidden device is still there and still obeys.
        on = await client.post("/api/devices/tv/commands", json={"command": "turn_on"})
        assert on.status_code == 200, on.text

    async with _running(db) as (hub, url), _as(url, "mom") as client:
        listed = (await client.get("/api/devices")).json()
        light = _listed(listed, SIM_LIGHT)
        assert (light["name"], light["room"]) == ("현관 조명", "kitchen")
        sofa = _listed(listed, "light_living")
        assert (sofa["name"], sofa["room"], sofa["hidden"]) == ("소파 조명", "small_room", False)
        assert _listed(listed, "tv")["hidden"] is True
        washer = _listed(listed, "washer")
        assert washer["hidden"] is True and washer["note"] == render("device_edit.home_file_note", "ko")
        said = await client.post("/api/conversation", json={"text": "현관 조명 꺼 줘"})
        assert said.status_code == 200, said.text
        await eventually(lambda: hub.state(SIM_LIGHT).get("power") is False)
        # Showing the washer again clears the removal.
        shown = await client.patch("/api/devices/washer", json={"hidden": False})
        assert shown.json()["hidden"] is False and shown.json()["note"] is None
        # An MQTT device removed is forgotten with its changes.
        gone = await client.delete(f"/api/devices/{SIM_LIGHT}")
        assert gone.json()["forgotten"] is True
        assert (await client.get(f"/api/devices/{SIM_LIGHT}")).status_code == 404
        assert hub.device_override(SIM_LIGHT) is None


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_bad_edits_are_4xx_with_words_and_children_and_guests_are_refused(
    tmp_path: Path, language: str
) -> None:
    async with _running(tmp_path / "oneteam.sqlite3") as (hub, url):
        async with _as(url, "mom", language) as client:
            cases = [
                ("/api/devices/nope", {"name": "x"}, 404, "error.device_not_found"),
                ("/api/devices/tv", {"name": "   "}, 422, "error.device_edit.empty_name"),
                ("/api/devices/tv", {"name": "가" * 81}, 422, "error.device_edit.long_name"),
                ("/api/devices/tv", {"room": "garage"}, 422, "error.device_edit.unknown_room"),
                ("/api/devices/tv", {}, 422, "error.device_edit.nothing"),
            ]
            for path, body, status, key in cases:
                answer = await client.patch(path, json=body)
                assert answer.status_code == status, (body, answer.text)
                error = answer.json()["error"]
                assert error["key"] == key
                assert error["message"] and error["message"] != key
                assert error["message"].isascii() == (language == "en"), error["message"]
            assert (await client.delete("/api/devices/nope")).status_code == 404
        for name in ("minji", "visitor"):
            async with _as(url, name, language) as client:
                assert (await client.patch("/api/devices/tv", json={"name": "티브이"})).status_code == 403
                assert (await client.delete("/api/devices/tv")).status_code == 403
        assert hub.device("tv").display_name == "TV"
