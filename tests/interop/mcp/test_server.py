"""The MCP server, driven by the SDK's own client: in process, over streamable HTTP with a hub token,
and over stdio as `python -m oneteam.interop.mcp` beside a real hub process."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.mcp import LocalHome, build_server, http_app
from oneteam.model import Command, Grant
from oneteam.model.conversation import ConversationReply
from tests.conftest import HubProcess, free_port
from tests.interop.smarthome.conftest import DEMO_HOME, Serve


class FixedEnglishAgent:
    """A small real ConversationAgent: understands "set the <device name> to <n> degrees" only, and
    dispatches it through the hub. (The real Korean/English understanding is wired by the lead.)"""

    _PATTERN = re.compile(r"set the (?P<name>.+?) to (?P<value>\d+)(?: degrees)?$", re.IGNORECASE)

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def converse(
        self,
        text: str,
        *,
        room: str | None,
        language: str | None,
        session: str,
        source: str,
        grant: Grant | None = None,
    ) -> ConversationReply:
        match = self._PATTERN.match(text.strip())
        device = None
        if match:
            wanted = match["name"].lower()
            device = next((d for d in self.hub.devices() if wanted in (n.lower() for n in d.names)), None)
        if match is None or device is None:
            return ConversationReply(text="I did not understand.", language="en", kind="none")
        command = Command(
            device_id=device.id, name="set_temperature", value=int(match["value"]), source=source
        )
        await self.hub.dispatch(command, grant=grant)
        return ConversationReply(
            text=f"{device.display_name} set to {match['value']} degrees.",
            language="en",
            kind="command",
            done=[command.as_dict()],
            changed_devices=[device.id],
        )


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    home = load_home(DEMO_HOME)
    running = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await running.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with running:
        running.set_conversation_agent(FixedEnglishAgent(running))
        yield running


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


async def test_tools_list_read_and_command_through_the_hub(hub: Hub) -> None:
    async with Client(build_server(LocalHome(hub))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"list_devices", "get_state", "send_command", "say", "list_routines", "run_routine"}
        devices = _data(await client.call_tool("list_devices", {}))["devices"]
        assert {d["id"] for d in devices} == {d.id for d in hub.devices()}
        result = _data(
            await client.call_tool(
                "send_command", {"device_id": "ac_living", "command": "set_temperature", "value": 24}
            )
        )
        assert result["attributes"]["temperature"] == 24
        assert hub.state("ac_living").get("temperature") == 24
        state = _data(await client.call_tool("get_state", {"device_id": "ac_living"}))
        assert state["attributes"]["power"] is True and state["is_available"] is True


async def test_commands_outside_the_allow_list_are_refused_and_not_run(hub: Hub) -> None:
    async with Client(build_server(LocalHome(hub), allowed_commands={"turn_on", "turn_off"})) as client:
        devices = _data(await client.call_tool("list_devices", {}))["devices"]
        assert {c for d in devices for c in d["commands"]} <= {"turn_on", "turn_off"}
        refused = await client.call_tool("send_command", {"device_id": "washer", "command": "start"})
        assert refused.is_error and "not allowed" in refused.content[0].text
        assert hub.state("washer").get("run_state") == "idle"


async def test_hub_validation_errors_reach_the_agent_in_words(hub: Hub) -> None:
    async with Client(build_server(LocalHome(hub), language="ko")) as client:
        too_hot = await client.call_tool(
            "send_command", {"device_id": "ac_living", "command": "set_temperature", "value": 40}
        )
        assert too_hot.is_error and "18" in too_hot.content[0].text and "30" in too_hot.content[0].text
        unknown = await client.call_tool("get_state", {"device_id": "oven"})
        assert unknown.is_error and "oven" in unknown.content[0].text
        bad = await client.call_tool(
            "send_command", {"device_id": "tv", "command": "adjust_volume", "direction": "sideways"}
        )
        assert bad.is_error


async def test_say_runs_a_sentence_through_the_conversation_agent(hub: Hub) -> None:
    async with Client(build_server(LocalHome(hub))) as client:
        reply = _data(
            await client.call_tool("say", {"text": "set the living room AC to 23 degrees", "language": "en"})
        )
    assert reply["kind"] == "command" and reply["changed_devices"] == ["ac_living"]
    assert hub.state("ac_living").get("temperature") == 23


async def test_http_transport_needs_a_hub_token(hub: Hub) -> None:
    token = await hub.create_token("mcp")
    port = free_port()
    server = build_server(LocalHome(hub), http_url=f"http://127.0.0.1:{port}")
    async with Serve(http_app(server), port=port, lifespan="on") as served:
        async with httpx.AsyncClient() as plain:
            refused = await plain.post(
                f"{served.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            )
            assert refused.status_code == 401
            wrong = await plain.post(
                f"{served.url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Authorization": "Bearer ot_wrong"},
            )
            assert wrong.status_code == 401
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http,
            Client(streamable_http_client(f"{served.url}/mcp", http_client=http)) as client,
        ):
            result = _data(
                await client.call_tool(
                    "send_command", {"device_id": "light_living", "command": "set_brightness", "value": 40}
                )
            )
    assert result["attributes"]["brightness"] == 40 and hub.state("light_living").get("brightness") == 40


@pytest.mark.slow
async def test_stdio_server_drives_a_running_hub(hub_server: HubProcess) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oneteam.interop.mcp", "--url", hub_server.url, "--token", hub_server.token],
    )
    async with Client(params) as client:
        devices = _data(await client.call_tool("list_devices", {}))["devices"]
        assert len(devices) == 12
        result = _data(
            await client.call_tool("send_command", {"device_id": "tv", "command": "set_channel", "value": 11})
        )
    assert result["attributes"]["channel"] == 11
    async with httpx.AsyncClient() as http:
        state = (await http.get(f"{hub_server.url}/api/devices/tv/state", headers=hub_server.headers)).json()
    assert state["attributes"]["channel"] == 11
