"""Routines and scenes at the partner door, end to end on a real server with the automation engine
and the Korean presets: SYNC lists them as SCENE devices (schema-valid), ActivateScene runs them
under the link's grant, a link that does not reach every device of a routine does not see it, a
routine touching a device that confirms asks for an ack (or, needing a PIN, is not offered)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from oneteam.automation import AutomationStore, Engine
from oneteam.hub import Hub, load_home
from oneteam.model import Home
from tests.interop.smarthome.conftest import (
    DB,
    DEMO_HOME,
    Door,
    Linked,
    execute_body,
    intent,
    link,
    load_schema,
    validate,
)
from tests.interop.smarthome.test_challenge import _execute_schema, _with_confirmation

LIGHTS = ["light_living", "light_bedroom", "light_kitchen", "light_small"]


class Partner:
    """Two links of one partner: one to every device, one to the lights only."""

    def __init__(self, door: Door, everything: Linked, lights: Linked, engine: Engine) -> None:
        self.door = door
        self.everything = everything
        self.lights = lights
        self.engine = engine


@pytest.fixture
def partner_home(tmp_path: Path) -> Home:
    home_file = tmp_path / "home.yaml"
    home_file.write_text(_with_confirmation(DEMO_HOME.read_text(encoding="utf-8")), encoding="utf-8")
    return load_home(home_file)


@pytest.fixture
async def engine(partner_hub: Hub, tmp_path: Path) -> AsyncIterator[Engine]:
    """The automation engine with the Korean presets and a scene that starts the washer, whose
    home-file entry asks for an ack."""
    engine = Engine(partner_hub, AutomationStore(tmp_path / DB))
    await engine.start(presets="ko")
    await engine.put(
        {
            "id": "laundry",
            "names": {"ko": "빨래", "en": "Laundry"},
            "targets": [{"device": "washer", "command": "start"}],
        }
    )
    try:
        yield engine
    finally:
        await engine.stop()


@pytest.fixture
async def partner(engine: Engine, door: Door) -> AsyncIterator[Partner]:
    google, secret = door.add_partner(rate_per_minute=10_000)
    async with httpx.AsyncClient(timeout=20) as a, httpx.AsyncClient(timeout=20) as b:
        everything = await link(door, a, google, secret)
        lights = await link(door, b, google, secret, devices=LIGHTS)
        yield Partner(door, everything, lights, engine)


def _scenes(sync: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in sync["payload"]["devices"] if d["type"] == "action.devices.types.SCENE"}


async def _activate(linked: Linked, scene: str, challenge: object = None, **params: Any) -> dict[str, Any]:
    body = execute_body([scene], "ActivateScene", params or {"deactivate": False})
    validate(body, "intents/execute/execute.request.schema.json")  # (the schema predates `challenge`)
    if challenge is not None:
        body["inputs"][0]["payload"]["commands"][0]["execution"][0]["challenge"] = challenge
    answer = await linked.post(body)
    jsonschema.Draft7Validator(_execute_schema()).validate(answer)
    [result] = answer["payload"]["commands"]
    return dict(result)


async def test_sync_lists_the_routines_a_link_may_run_as_scenes(partner: Partner) -> None:
    sync = await partner.everything.post(intent("SYNC"))
    validate(sync, "intents/sync/sync.response.schema.json")
    assert "action.devices.commands.ActivateScene" in load_schema("platform/commands.schema.json")["enum"]
    scenes = _scenes(sync)
    # away starts the robot, whose start needs the PIN: not offered. wake is disabled.
    assert set(scenes) == {"routine:movie", "routine:home", "routine:sleep", "routine:laundry"}
    movie = scenes["routine:movie"]
    assert movie["traits"] == ["action.devices.traits.Scene"]
    assert movie["attributes"] == {"sceneReversible": False}
    assert movie["name"]["name"] == "영화" and movie["name"]["nicknames"] == ["Movie"]
    assert movie["willReportState"] is False
    # The lights-only link reaches no routine: each one touches more than the lights.
    assert _scenes(await partner.lights.post(intent("SYNC"))) == {}
    query = await partner.everything.post(intent("QUERY", {"devices": [{"id": "routine:movie"}]}))
    validate(query, "intents/query/query.response.schema.json")
    assert query["payload"]["devices"]["routine:movie"] == {"online": True, "status": "SUCCESS"}
    hidden = await partner.lights.post(intent("QUERY", {"devices": [{"id": "routine:movie"}]}))
    assert hidden["payload"]["devices"]["routine:movie"]["errorCode"] == "deviceNotFound"


async def test_activate_scene_applies_it_through_the_engine(partner: Partner) -> None:
    hub = partner.door.hub
    assert hub.state("tv").get("power") is False
    result = await _activate(partner.everything, "routine:movie")
    assert result == {"ids": ["routine:movie"], "status": "SUCCESS", "states": {"online": True}}
    assert hub.state("light_living").get("brightness") == 20
    assert hub.state("tv").get("power") is True
    assert hub.state("ac_living").get("temperature") == 25
    [run] = partner.engine.runs("movie")
    assert run.status == "done"
    assert run.trigger["by"].startswith("partner:")
    undo = await _activate(partner.everything, "routine:movie", deactivate=True)
    assert undo["errorCode"] == "actionNotAvailable"


async def test_a_link_cannot_reach_past_its_devices_through_a_routine(partner: Partner) -> None:
    hub = partner.door.hub
    refused = await _activate(partner.lights, "routine:movie")
    assert refused["errorCode"] == "deviceNotFound"
    assert hub.state("tv").get("power") is False and partner.engine.runs("movie") == []
    pin = await _activate(partner.everything, "routine:away")  # needs the robot's PIN
    assert pin["errorCode"] == "deviceNotFound"
    assert hub.state("robot").get("run_state") == "docked"


async def test_a_routine_on_a_device_that_confirms_asks_for_an_ack(partner: Partner) -> None:
    hub = partner.door.hub
    asked = await _activate(partner.everything, "routine:laundry")
    assert asked["errorCode"] == "challengeNeeded" and asked["challengeNeeded"] == {"type": "ackNeeded"}
    assert hub.state("washer").get("run_state") == "idle"
    done = await _activate(partner.everything, "routine:laundry", {"ack": True})
    assert done["status"] == "SUCCESS"
    assert hub.state("washer").get("run_state") == "running"
