"""A routine acts within the grant of whoever saved it, as that grant stands at each run: a revoked
token's routine does not run, a member narrowed to one room cannot reach the others through it,
and a routine without an owner (presets) runs as the household's own. Real hub, real SQLite, the
REST door in process."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from oneteam.api.app import create_app
from oneteam.api.routines import router as routines_router
from oneteam.automation import AutomationStore, Engine
from oneteam.hub import EventQuery, Hub
from oneteam.model import EventKind
from tests.automation.conftest import make_hub

EVENING = {
    "id": "evening",
    "names": {"ko": "저녁", "en": "Evening"},
    "actions": [
        {"device": "light_living", "command": "turn_on"},
        {"device": "light_kitchen", "command": "turn_on"},
    ],
}


@dataclass
class Home:
    hub: Hub
    engine: Engine
    client: httpx.AsyncClient
    admin: dict[str, str]


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Home]:
    hub = await make_hub(tmp_path / "hub.sqlite3")
    async with hub:
        engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
        await engine.start(presets="ko")
        app = create_app(hub, extra_routers=[routines_router])
        app.state.automation = engine
        admin = {"Authorization": f"Bearer {await hub.create_token('admin')}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Home(hub, engine, client, admin)
        await engine.stop()


async def _member_token(hub: Hub, name: str) -> tuple[int, dict[str, str]]:
    await hub.household.add_member(name, "adult", by=None)
    token_id, token = await hub.household.create_token(name, "phone", by=None)
    return token_id, {"Authorization": f"Bearer {token}"}


async def _run(home: Home, routine_id: str) -> dict[str, Any]:
    response = await home.client.post(
        f"/api/routines/{routine_id}/run", params={"wait": 5}, headers=home.admin
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def _commands_from(hub: Hub, source: str) -> list[Any]:
    await hub.storage.flush()
    events = await hub.storage.events(EventQuery(limit=500))
    return [e for e in events if e.kind is EventKind.COMMAND and e.source == source]


async def test_a_revoked_savers_routine_fails_before_any_step(home: Home) -> None:
    token_id, headers = await _member_token(home.hub, "minji")
    saved = await home.client.post("/api/routines", json=EVENING, headers=headers)
    assert saved.status_code == 201, saved.text
    assert saved.json()["routine"]["owner"] == "member:minji"
    assert await home.hub.revoke_token(token_id)

    run = await _run(home, "evening")
    assert run["status"] == "failed" and run["steps"] == []
    note = run["notes"][0]
    assert note["key"] == "automation.owner_revoked" and note["principal"] == "member:minji"
    assert (
        "may no longer act" in note["message"]["en"] and "루틴을 실행하지 않았어요" in note["message"]["ko"]
    )
    assert await _commands_from(home.hub, "routine:evening") == []
    assert home.hub.states()["light_living"].get("power") is False
    # The activity log says so too.
    events = await home.hub.storage.events(EventQuery(limit=500))
    finished = [
        e
        for e in events
        if e.kind is EventKind.ROUTINE_RUN
        and e.data.get("phase") == "finished"
        and e.data["run"] == run["id"]
    ]
    assert finished and finished[0].data["error"]["key"] == "automation.owner_revoked"


async def test_a_member_narrowed_after_saving_is_refused_outside_the_room(home: Home) -> None:
    _, headers = await _member_token(home.hub, "jiho")
    saved = await home.client.post("/api/routines", json=EVENING, headers=headers)
    assert saved.status_code == 201, saved.text
    await home.hub.household.update_member("jiho", by=None, overrides={"rooms": ["living_room"]})

    run = await _run(home, "evening")
    assert run["status"] == "failed"
    first, second = run["steps"]
    assert first["status"] == "ok" and first["device"] == "light_living"
    assert second["status"] == "failed" and second["error"] == "error.forbidden"
    assert home.hub.states()["light_living"].get("power") is True
    assert home.hub.states()["light_kitchen"].get("power") is False
    sent = await _commands_from(home.hub, "routine:evening")
    assert [e.device_id for e in sent] == ["light_living"]  # the log still names the routine


async def test_a_routine_without_owner_still_runs_as_the_households(home: Home) -> None:
    assert home.engine.describe(home.engine.get("movie"))["owner"] is None
    run = await _run(home, "movie")
    assert run["status"] == "done", run
    assert await _commands_from(home.hub, "routine:movie")


async def test_the_owner_survives_a_restart_and_old_files_gain_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # the table as it was before owners were kept
        old.execute(
            "CREATE TABLE automation_routines (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,"
            " enabled INTEGER NOT NULL, origin TEXT NOT NULL, updated_at REAL NOT NULL)"
        )
        old.execute("INSERT INTO automation_routines VALUES ('x', 'automation', '{}', 1, 'api', 0)")
    store = AutomationStore(path)
    store.open()
    try:
        (kept,) = store.routines()
        assert kept.id == "x" and kept.owner is None
        owner = {"principal": "member:a", "door": "rest", "commands": None, "devices": None}
        store.put_routine("y", "automation", {}, True, "api", {**owner, "rooms": ["kitchen"]})
        assert {r.id: r.owner for r in store.routines()}["y"] == {**owner, "rooms": ["kitchen"]}
    finally:
        store.close()


async def test_routines_imported_through_rest_act_as_the_importer(home: Home) -> None:
    token_id, headers = await _member_token(home.hub, "seoyeon")
    text = "routines:\n  - id: imported\n    names: {ko: 가져온 루틴}\n" + (
        "    actions:\n      - {device: light_living, command: turn_on}\n"
    )
    imported = await home.client.post("/api/routines/import", json={"yaml": text}, headers=headers)
    assert imported.status_code == 200, imported.text
    listed = await home.client.get("/api/routines/imported", headers=home.admin)
    assert listed.json()["owner"] == "member:seoyeon"
    assert await home.hub.revoke_token(token_id)
    run = await _run(home, "imported")
    assert run["status"] == "failed" and run["steps"] == []
    assert run["notes"][0]["key"] == "automation.owner_revoked"
    assert await _commands_from(home.hub, "routine:imported") == []
