"""Routines at the other doors: run updates over the WebSocket, MCP list_routines / run_routine (in
the hub's process and over REST), and the hub's Routines hook the partner door uses for scenes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from websockets.sync.client import connect

from oneteam.automation import AutomationStore, Engine
from oneteam.hub import Hub
from oneteam.hub.routines import RoutinesUnavailable, routines_of
from oneteam.interop.mcp import LocalHome, build_server
from oneteam.interop.mcp.home import RemoteHome
from oneteam.model import Door, Grant, PermissionDenied
from tests.automation.conftest import make_hub
from tests.conftest import HubProcess, start_hub, stop_hub


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[tuple[Hub, Engine]]:
    hub = await make_hub(tmp_path / "hub.sqlite3")
    async with hub:
        engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
        await engine.start(presets="ko")
        yield hub, engine
        await engine.stop()
    with pytest.raises(RoutinesUnavailable):
        routines_of(hub)  # the engine stopped: the doors are told, not handed a stale engine


def _text(result: Any) -> str:
    return str(getattr(result.content[0], "text", ""))


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


async def test_the_hub_hook_lists_scenes_and_applies_one_under_a_grant(home: tuple[Hub, Engine]) -> None:
    hub, engine = home
    routines = routines_of(hub)
    scenes = [e for e in routines.catalog() if e.kind == "scene"]
    assert [s.id for s in scenes] == ["movie"] and scenes[0].name("ko") == "영화"
    partner = Grant(principal="partner:acme", door=Door.PARTNER)
    run = await routines.activate("movie", grant=partner)
    assert run["status"] == "done" and run["trigger"]["by"] == partner.source
    assert hub.state("light_living").get("brightness") == 20
    lights_only = Grant(principal="partner:lights", door=Door.PARTNER, commands=frozenset({"set_brightness"}))
    with pytest.raises(PermissionDenied):
        await routines.activate("movie", grant=lights_only)  # the scene also turns the TV on
    assert len(engine.store.runs("movie")) == 1


async def test_mcp_lists_and_runs_routines_within_its_allow_list(home: tuple[Hub, Engine]) -> None:
    hub, engine = home
    async with Client(build_server(LocalHome(hub, language="ko"))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"list_routines", "run_routine"} <= names
        listed = _data(await client.call_tool("list_routines", {}))["routines"]
        by_id = {r["id"]: r for r in listed}
        assert by_id["movie"]["kind"] == "scene" and by_id["wake"]["enabled"] is False
        run = _data(await client.call_tool("run_routine", {"routine_id": "movie"}))
        assert run["status"] == "done" and run["routine"] == "movie"
        assert {r["device"] for r in run["steps"][0]["results"]} >= {"light_living", "tv"}
        missing = await client.call_tool("run_routine", {"routine_id": "nope"})
        assert missing.is_error and "nope" in _text(missing)
    async with Client(build_server(LocalHome(hub), allowed_commands={"turn_on", "turn_off"})) as client:
        refused = await client.call_tool("run_routine", {"routine_id": "movie"})
        assert refused.is_error  # set_brightness is not this agent's
    assert len(engine.store.runs("movie")) == 1


# -- a real `oneteam serve`: WebSocket and MCP over REST ---------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_hub(tmp_path_factory.mktemp("routine-doors"))
    yield hub
    stop_hub(hub)


def test_run_updates_reach_websocket_subscribers(server: HubProcess) -> None:
    url = server.url.replace("http", "ws") + f"/api/ws?token={server.token}"
    with connect(url) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "hello"
        response = httpx.post(f"{server.url}/api/routines/home/run", headers=server.headers, timeout=30)
        assert response.status_code == 200, response.text
        run_id = response.json()["id"]
        phases: list[dict[str, Any]] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(p["phase"] == "finished" for p in phases):
            message = json.loads(socket.recv(timeout=10))
            event = message.get("event", {})
            if event.get("kind") == "routine_run" and event["data"]["run"] == run_id:
                phases.append(event["data"])
    assert phases[0]["phase"] == "started" and phases[-1]["phase"] == "finished"
    steps = [p for p in phases if p["phase"] == "step"]
    assert len(steps) >= 2 and [s["index"] for s in steps] == sorted(s["index"] for s in steps)
    assert phases[-1]["status"] in {"done", "failed"} and phases[-1]["routine"] == "home"


async def test_mcp_over_rest_narrows_the_run_to_its_allow_list(server: HubProcess) -> None:
    remote = RemoteHome(server.url, server.token, language="en")
    try:
        async with Client(build_server(remote, allowed_commands={"turn_on"})) as client:
            listed = _data(await client.call_tool("list_routines", {}))["routines"]
            assert {"away", "movie"} <= {r["id"] for r in listed}
            refused = await client.call_tool("run_routine", {"routine_id": "movie"})
            assert refused.is_error and "set_brightness" in _text(refused)
        async with Client(build_server(remote)) as client:
            run = _data(await client.call_tool("run_routine", {"routine_id": "movie"}))
            assert run["status"] == "done"
    finally:
        await remote.aclose()
    async with httpx.AsyncClient(headers=server.headers, timeout=10) as http:
        traces = await http.get(f"{server.url}/api/routines/movie/traces")
    assert [r["status"] for r in traces.json()["runs"]] == ["done"]  # the refused one never ran
