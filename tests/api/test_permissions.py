"""Every door enforces the caller's permissions before dispatch; each test tries a bypass and is refused.

A real hub (demo home, virtual appliances, SQLite file) with the real Korean conversation agent,
served by uvicorn on a free port; clients are real HTTP, WebSocket and MCP clients.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from oneteam.api import maintenance as maintenance_api
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.storage import EventQuery
from oneteam.hub.tokens import hash_token
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.mcp import LocalHome, RemoteHome, build_server, http_app
from oneteam.model import DeviceType, EventKind
from oneteam.services.maintenance import MaintenanceService, ModelStore
from oneteam.sim import DegradingAppliance
from oneteam.voice.dialog import Conversation
from tests.conftest import HubProcess, free_port, oneteam_cli
from tests.interop.smarthome.conftest import DEMO_HOME, Serve


@dataclass
class Running:
    hub: Hub
    url: str
    token: str
    db: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/ws"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    home = load_home(DEMO_HOME)
    db = tmp_path / "oneteam.sqlite3"
    hub = Hub(home, SqliteStorage(db))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        hub.set_conversation_agent(Conversation(hub))
        token = await hub.create_token("kitchen-tablet")
        app = create_app(hub, allowed_origins=["https://panel.example"])
        async with Serve(app) as api:
            yield Running(hub, api.url, token, db)


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


# -- MCP: the allow-list holds for sentences too ----------------------------------------------


async def test_mcp_say_outside_the_allow_list_is_refused_before_dispatch(running: Running) -> None:
    hub = running.hub
    before = hub.state("washer").get("run_state")
    async with Client(build_server(LocalHome(hub, language="ko"), allowed_commands={"turn_on"})) as client:
        reply = _data(await client.call_tool("say", {"text": "세탁기 시작해줘", "language": "ko"}))
        assert reply["kind"] == "command", reply  # understood as starting the washer, then refused
        assert reply["done"][0]["error"] == "error.forbidden"
        assert "권한" in reply["text"]
        assert hub.state("washer").get("run_state") == before != "running"
        allowed = _data(await client.call_tool("say", {"text": "거실 불 켜줘", "language": "ko"}))
    assert allowed["changed_devices"] == ["light_living"]
    failed = await hub.events(EventQuery(device_id="washer", kinds=(EventKind.COMMAND_FAILED,)))
    assert failed[0].data["error"] == "error.forbidden" and failed[0].source == "mcp:local"
    assert not await hub.events(EventQuery(device_id="washer", kinds=(EventKind.COMMAND,)))


async def test_mcp_over_rest_say_outside_the_allow_list_is_refused_by_the_hub(running: Running) -> None:
    """`oneteam mcp --allow turn_on` beside a running hub: the hub narrows the sentence to turn_on."""
    hub = running.hub
    agent_token = await hub.create_token("claude", door="mcp")
    home = RemoteHome(running.url, agent_token, language="ko")
    try:
        async with Client(build_server(home, allowed_commands={"turn_on"})) as client:
            reply = _data(await client.call_tool("say", {"text": "세탁기 시작해줘", "language": "ko"}))
            assert reply["done"][0]["error"] == "error.forbidden" and "권한" in reply["text"]
            assert hub.state("washer").get("run_state") != "running"
            _data(await client.call_tool("say", {"text": "거실 불 켜줘", "language": "ko"}))
    finally:
        await home.aclose()
    done = await hub.events(EventQuery(device_id="light_living", kinds=(EventKind.COMMAND,)))
    assert done[0].source == "mcp:token:claude"  # recorded as MCP, from the token, not a header


# -- the activity log's source comes from the door and the token --------------------------------


async def test_a_forged_source_header_does_not_change_the_activity_log(running: Running) -> None:
    forged = {**running.headers, "x-oneteam-source": "partner:genie"}
    async with httpx.AsyncClient(base_url=running.url, headers=forged) as http:
        response = await http.post("/api/devices/tv/commands", json={"command": "turn_on"})
        assert response.status_code == 200
        spoken = await http.post("/api/conversation", json={"text": "거실 불 켜줘", "language": "ko"})
        assert spoken.status_code == 200
        events = (await http.get("/api/events", params={"kind": "command"})).json()["events"]
        me = (await http.get("/api/token")).json()
    assert me == {"principal": "token:kitchen-tablet", "door": "rest", "source": "rest:token:kitchen-tablet"}
    assert {e["device_id"]: e["source"] for e in events} == {
        "tv": "rest:token:kitchen-tablet",
        "light_living": "rest:token:kitchen-tablet",
    }


async def test_the_rest_allow_field_only_narrows(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers=running.headers) as http:
        narrowed = await http.post(
            "/api/conversation", json={"text": "세탁기 돌려 줘", "language": "ko", "allow": ["turn_on"]}
        )
    assert narrowed.status_code == 200 and narrowed.json()["done"][0]["error"] == "error.forbidden"
    assert running.hub.state("washer").get("run_state") != "running"


# -- WebSocket Origin ------------------------------------------------------------------------------


async def test_a_websocket_from_a_foreign_origin_is_refused(running: Running) -> None:
    url = f"{running.ws_url}?token={running.token}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
    voice_url = url.replace("/api/ws", "/api/voice")
    with pytest.raises(InvalidStatus) as voice_refused:
        async with connect(voice_url, origin="http://192.168.0.66:8123"):  # type: ignore[arg-type]
            pass
    assert voice_refused.value.response.status_code == 403
    host = running.url.removeprefix("http://")
    for origin in (None, f"http://{host}", "https://panel.example"):
        async with connect(url, origin=origin) as socket:  # type: ignore[arg-type]
            hello = await socket.recv()
            assert '"hello"' in str(hello)


# -- revocation is immediate on every door -------------------------------------------------------


async def _command(socket: ClientConnection, n: int) -> dict[str, Any]:
    import json

    await socket.send(json.dumps({"type": "command", "id": n, "device": "tv", "command": "turn_on"}))
    while True:
        message = json.loads(await socket.recv())
        if message.get("type") == "result" and message.get("id") == n:
            result: dict[str, Any] = message
            return result


async def _record_id(hub: Hub, token: str) -> int:
    return next(r.id for r in await hub.storage.tokens() if r.token_hash == hash_token(token))


async def test_a_token_revoked_through_the_hub_stops_rest_ws_and_mcp_at_once(running: Running) -> None:
    hub = running.hub
    token = await hub.create_token("old-phone")
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    mcp_app = http_app(build_server(LocalHome(hub), http_url=f"http://127.0.0.1:{port}"))
    async with (
        Serve(mcp_app, port=port, lifespan="on") as mcp_served,
        httpx.AsyncClient(base_url=running.url, headers=headers) as http,
        connect(f"{running.ws_url}?token={token}") as socket,
        httpx2.AsyncClient(headers=headers, timeout=10) as mcp_http,
        Client(streamable_http_client(f"{mcp_served.url}/mcp", http_client=mcp_http)) as agent,
    ):
        await socket.recv()  # hello
        assert (await http.get("/api/devices")).status_code == 200
        assert (await _command(socket, 1))["ok"]
        _data(await agent.call_tool("get_state", {"device_id": "tv"}))
        assert await hub.revoke_token(await _record_id(hub, token))
        assert (await http.get("/api/devices")).status_code == 401
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(2):
                while True:
                    await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        refused = await mcp_http.post(
            f"{mcp_served.url}/mcp",
            json={"jsonrpc": "2.0", "id": 9, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert refused.status_code == 401


async def test_a_token_revoked_by_another_process_fails_on_the_next_call(running: Running) -> None:
    """The CLI revokes through its own connection to the file: REST and RemoteHome refuse the very next
    request; an open WebSocket is closed within the watch interval."""
    hub = running.hub
    token = await hub.create_token("mcp-agent", door="mcp")
    home = RemoteHome(running.url, token)
    cli = SqliteStorage(running.db)
    await cli.open()
    try:
        async with (
            Client(build_server(home)) as agent,
            connect(f"{running.ws_url}?token={token}") as socket,
        ):
            await socket.recv()
            _data(await agent.call_tool("get_state", {"device_id": "tv"}))
            _data(await agent.call_tool("get_state", {"device_id": "tv"}))  # a remembered token now
            assert await cli.revoke_token(await _record_id(hub, token))
            started = time.monotonic()
            refused = await agent.call_tool("get_state", {"device_id": "tv"})
            assert refused.is_error and "token is missing or not valid" in str(refused.content)
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(3):
                    while True:
                        await socket.recv()
            assert time.monotonic() - started < 2.0
    finally:
        await cli.close()
        await home.aclose()


# -- model names, never paths ----------------------------------------------------------------------


async def test_predict_takes_model_names_only(running: Running, tmp_path: Path) -> None:
    """A real saved model copied outside the models folder cannot be reached by any path spelling."""
    store = ModelStore(tmp_path / "data" / "models")
    service = MaintenanceService(store)
    await asyncio.to_thread(service.ensure_appliance_models)
    outside = tmp_path / "elsewhere"
    shutil.copytree(store.root / "appliance-washer", outside / "appliance-washer")
    app = create_app(running.hub, extra_routers=[maintenance_api.router])
    app.state.maintenance = service
    washer = DegradingAppliance(DeviceType.WASHER, rng=random.Random(9), life_days=300.0)
    rows = [{**washer.advance().values, "device": "w1"} for _ in range(5)]
    async with Serve(app) as api, httpx.AsyncClient(base_url=api.url, headers=running.headers) as http:
        for model in (
            str(outside / "appliance-washer"),
            "/etc/passwd",
            "../../elsewhere/appliance-washer",
            "..",
            "appliance-washer/../appliance-washer",
            "models\\appliance-washer",
        ):
            answer = await http.post(
                "/api/maintenance/predict",
                json={"model": model, "rows": rows},
                headers={"Accept-Language": "en"},
            )
            assert answer.status_code == 422, (model, answer.text)
            error = answer.json()["error"]
            if len(model) > 64:  # longer than any name: refused by the request's own limit
                assert error["key"] == "error.malformed_request" and "model" in error["message"]
            else:
                assert error["key"] == "maintenance.error.bad_model_name"
                assert "never a path" in error["message"]
        named = await http.post("/api/maintenance/predict", json={"model": "appliance-washer", "rows": rows})
    assert named.status_code == 200 and named.json()["model"] == "appliance-washer"


# -- Wyoming: a sentence from Home Assistant acts under the Wyoming server's token ----------------


async def test_wyoming_sentences_act_under_the_voice_token_and_its_door(running: Running) -> None:
    from oneteam.voice.cli import hub_act

    token = await running.hub.create_token("wyoming", door="voice")
    act = hub_act(running.url, token, session="wyoming")
    reply = await act("거실 불 켜줘", None)
    assert reply.changed_devices == ["light_living"]
    done = await running.hub.events(EventQuery(device_id="light_living", kinds=(EventKind.COMMAND,)))
    assert done[0].source == "voice:token:wyoming"
    await running.hub.revoke_token(await _record_id(running.hub, token))
    refused = await act("거실 불 꺼줘", None)
    assert refused.kind == "none" and "토큰" in refused.text
    assert running.hub.state("light_living").get("power") is True


# -- the real `oneteam mcp --allow turn_on` beside a real `oneteam serve` --------------------------


@pytest.mark.slow
async def test_oneteam_mcp_allow_list_holds_for_say(hub_server: HubProcess) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            *("-m", "oneteam.interop.mcp", "--url", hub_server.url, "--token", hub_server.token),
            *("--allow", "turn_on", "--lang", "ko"),
        ],
    )
    async with httpx.AsyncClient(base_url=hub_server.url, headers=hub_server.headers) as http:
        before = (await http.get("/api/devices/washer/state")).json()["attributes"]
        async with Client(params) as agent:
            reply = _data(await agent.call_tool("say", {"text": "세탁기 시작해줘", "language": "ko"}))
            refused = await agent.call_tool("send_command", {"device_id": "washer", "command": "start"})
        after = (await http.get("/api/devices/washer/state")).json()["attributes"]
        failed = (await http.get("/api/events", params={"device": "washer", "kind": "command_failed"})).json()
    assert reply["kind"] == "command" and reply["done"][0]["error"] == "error.forbidden", reply
    assert "권한" in reply["text"]
    assert refused.is_error and "start" in str(refused.content)
    assert after.get("run_state") == before.get("run_state") != "running"
    assert failed["events"][0]["data"]["error"] == "error.forbidden"


def test_a_door_token_is_made_by_the_cli_and_a_wrong_door_is_exit_2(tmp_path: Path) -> None:
    made = oneteam_cli(
        "token", "create", "--name", "agent", "--door", "mcp", "--json", "--data-dir", str(tmp_path)
    )
    assert made.returncode == 0, made.stderr
    wrong = oneteam_cli("--lang", "en", "token", "create", "--door", "partner", "--data-dir", str(tmp_path))
    assert wrong.returncode == 2 and "--door must be one of: mcp, voice" in wrong.stderr
    with sqlite3.connect(tmp_path / "oneteam.sqlite3") as raw:
        rows = raw.execute("SELECT name, door FROM tokens").fetchall()
    raw.close()
    assert rows == [("agent", "mcp")]


@pytest.mark.slow
async def test_an_open_voice_socket_closes_when_its_token_is_revoked(running: Running) -> None:
    from oneteam.api import voice as voice_api
    from oneteam.voice.pipeline import for_hub

    hub = running.hub
    token = await hub.create_token("kitchen-speaker")
    app = create_app(hub)
    app.include_router(voice_api.router)
    app.state.voice = await asyncio.to_thread(for_hub, hub)
    async with Serve(app) as api:
        url = f"{api.url.replace('http://', 'ws://')}/api/voice?token={token}"
        async with connect(url) as socket:
            assert '"ready"' in str(await socket.recv())
            assert await hub.revoke_token(await _record_id(hub, token))
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(2):
                    while True:
                        await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_mcp_device_limits_hold_for_every_tool(running: Running) -> None:
    """`oneteam mcp --device light_living`: other devices are neither listed, read, commanded nor
    reachable through a sentence (in process and over REST)."""
    hub = running.hub
    agent_token = await hub.create_token("lamp-agent", door="mcp")
    remote = RemoteHome(running.url, agent_token, language="ko")
    try:
        for home in (LocalHome(hub, language="ko"), remote):
            server = build_server(home, allowed_devices={"light_living"}, language="ko")
            async with Client(server) as client:
                listed = _data(await client.call_tool("list_devices", {}))["devices"]
                assert [d["id"] for d in listed] == ["light_living"]
                read = await client.call_tool("get_state", {"device_id": "washer"})
                sent = await client.call_tool("send_command", {"device_id": "washer", "command": "start"})
                assert read.is_error and sent.is_error and "washer" in str(sent.content)
                said = _data(await client.call_tool("say", {"text": "세탁기 돌려 줘", "language": "ko"}))
                assert said["kind"] == "command" and said["done"][0]["error"] == "error.forbidden"
                lit = _data(await client.call_tool("say", {"text": "거실 불 켜줘", "language": "ko"}))
                assert lit["changed_devices"] == ["light_living"]
    finally:
        await remote.aclose()
    assert hub.state("washer").get("run_state") != "running"
