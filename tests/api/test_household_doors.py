"""Each role × each door × an allowed and a refused device, on a real hub behind a real uvicorn.

The household: an owner, an adult who is kept off the dryer, a child limited to the small room plus
the TV, a guest (lights, TV, air conditioning). Each member signs in (password → session) or uses
their own token, and acts through REST, the WebSocket, the talk box (REST conversation), voice (a
speaker's voice token, through the Wyoming satellite's own act), MCP (the `oneteam mcp --url`
agent over REST) and a partner link the member approved. Allowed: the device changes and the log
names the member and the door. Refused: nothing changes and the log keeps the refusal.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.client.client import Client
from websockets.asyncio.client import connect

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.hub.storage import EventQuery
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.mcp import RemoteHome, build_server
from oneteam.interop.smarthome import SmartHomeService
from oneteam.model import EventKind
from oneteam.voice.cli import hub_act
from oneteam.voice.dialog import Conversation
from tests.interop.smarthome.conftest import (
    DEMO_HOME,
    Door,
    PartnerEndpoint,
    Pkce,
    Serve,
    authorize_params,
    execute_body,
    link_account,
    read_form,
    signed_in_page,
)

SPEAKERS = """
speakers:
  mom_speaker: {room: living_room, member: mom}
  dad_speaker: {room: master_bedroom, member: dad}
  minji_speaker: {room: small_room, member: minji}
  visitor_speaker: {room: living_room, member: visitor}
"""
MEMBERS = {"owner": "mom", "adult": "dad", "child": "minji", "guest": "visitor"}
PASSWORD = "correct horse 42"


@dataclass(frozen=True)
class Act:
    command: str
    trait: tuple[str, dict[str, Any]]
    sentence: str
    attribute: str
    value: object


ACTS = {
    "washer": Act("start", ("StartStop", {"start": True}), "세탁기 시작해줘", "run_state", "running"),
    "dryer": Act("start", ("StartStop", {"start": True}), "건조기 시작해줘", "run_state", "running"),
    "light_small": Act("turn_on", ("OnOff", {"on": True}), "작은방 불 켜줘", "power", True),
    "light_living": Act("turn_on", ("OnOff", {"on": True}), "거실 불 켜줘", "power", True),
    "tv": Act("turn_on", ("OnOff", {"on": True}), "티비 켜줘", "power", True),
    "ac_living": Act("turn_on", ("OnOff", {"on": True}), "거실 에어컨 켜줘", "power", True),
}
CASES = {
    "owner": [("washer", True), ("light_small", True)],
    "adult": [("washer", True), ("dryer", False)],
    "child": [("light_small", True), ("tv", True), ("washer", False), ("light_living", False)],
    "guest": [("ac_living", True), ("washer", False)],
}
DOORS = ["rest", "ws", "conversation", "voice", "mcp", "partner"]


@dataclass
class Home:
    hub: Hub
    url: str
    door: Door


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Home]:
    parsed = parse_home(DEMO_HOME.read_text(encoding="utf-8") + SPEAKERS, str(DEMO_HOME))
    db = tmp_path / "oneteam.sqlite3"
    hub = Hub(parsed, SqliteStorage(db))
    await hub.add_adapter(VirtualAdapter(parsed, time_scale=1.0, tick_s=3600))
    async with hub:
        household = hub.household
        await household.ensure_owner("mom")
        await household.update_member("mom", by=None, password=PASSWORD)
        await household.add_member("dad", "adult", by=None, password=PASSWORD, overrides={"deny": ["dryer"]})
        await household.add_member(
            "minji", "child", by=None, password=PASSWORD, overrides={"rooms": ["small_room"], "allow": ["tv"]}
        )
        await household.add_member("visitor", "guest", by=None, password=PASSWORD)
        agent = Conversation(hub)
        await asyncio.to_thread(agent.understander.warm_up)  # Kiwi's model, before the first sentence
        hub.set_conversation_agent(agent)
        async with SmartHomeService(hub, db, report_batch_window_s=0.05) as service:
            app = create_app(
                hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
            )
            app.state.smarthome = service
            endpoint = PartnerEndpoint()
            async with Serve(app) as api, Serve(endpoint.app()) as partner_side:
                yield Home(hub, api.url, Door(hub, api.url, "", service, endpoint, partner_side.url))


async def _sign_in(client: httpx.AsyncClient, home: Home, name: str) -> str:
    answer = await client.post(f"{home.url}/api/session", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.cookies.get("oneteam_session") == answer.json()["token"]
    session: str = answer.json()["token"]
    return session


async def _act(door: str, home: Home, member: str, device: str, client: httpx.AsyncClient) -> None:
    """Send the device's command through `door` as `member` (the outcome is read from the hub)."""
    act = ACTS[device]
    household = home.hub.household
    if door in ("rest", "conversation", "ws"):
        session = await _sign_in(client, home, member)  # the cookie is kept by the client
        if door == "rest":
            await client.post(f"{home.url}/api/devices/{device}/commands", json={"command": act.command})
        elif door == "conversation":
            answer = await client.post(
                f"{home.url}/api/conversation", json={"text": act.sentence, "language": "ko"}
            )
            assert answer.status_code == 200, answer.text
        else:
            ws_url = home.url.replace("http://", "ws://") + "/api/ws"
            async with connect(ws_url, additional_headers={"Cookie": f"oneteam_session={session}"}) as socket:
                json.loads(await socket.recv())  # hello
                await socket.send(
                    json.dumps({"type": "command", "id": 1, "device": device, "command": act.command})
                )
                while (reply := json.loads(await socket.recv()))["type"] != "result":
                    pass
                assert reply["ok"] == (home.hub.state(device).get(act.attribute) == act.value)
    elif door == "voice":
        _, token = await household.create_token(member, f"{member}_speaker", by=None, door="voice")
        reply = await hub_act(home.url, token, session="wyoming")(act.sentence, None)
        assert reply.kind == "command", reply
    elif door == "mcp":
        _, token = await household.create_token(member, "agent", by=None, door="mcp")
        remote = RemoteHome(home.url, token, language="ko")
        try:
            async with Client(build_server(remote)) as agent:
                await agent.call_tool("send_command", {"device_id": device, "command": act.command})
        finally:
            await remote.aclose()
    else:
        session = await _sign_in(client, home, member)
        partner, secret = home.door.add_partner(name=f"partner-{member}")
        linking = Door(
            home.hub, home.url, session, home.door.service, home.door.endpoint, home.door.endpoint_url
        )
        async with httpx.AsyncClient() as browser:  # the member's browser on the consent page
            tokens = await link_account(browser, linking, partner, secret)
        trait, params = act.trait
        answer = await client.post(
            f"{home.url}/api/smarthome/fulfillment",
            json=execute_body([device], trait, params),
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert answer.status_code == 200, answer.text
        status = answer.json()["payload"]["commands"][0]["status"]
        assert (status == "SUCCESS") == (home.hub.state(device).get(act.attribute) == act.value)


def _source(door: str, member: str, home: Home) -> str:
    if door == "partner":
        client_id = home.door.service.store.links()[-1].client_id
        return f"partner:{client_id}:member:{member}"
    return {"conversation": "rest", "ws": "ws", "rest": "rest", "voice": "voice", "mcp": "mcp"}[door] + (
        f":member:{member}"
    )


@pytest.mark.parametrize("role", list(CASES))
@pytest.mark.parametrize("door", DOORS)
async def test_each_role_at_each_door(door: str, role: str, home: Home) -> None:
    member = MEMBERS[role]
    hub = home.hub
    async with httpx.AsyncClient(headers={"Accept-Language": "ko"}, timeout=60) as client:
        for device, allowed in CASES[role]:
            act = ACTS[device]
            before = hub.state(device).get(act.attribute)
            assert before != act.value
            await _act(door, home, member, device, client)
            after = hub.state(device).get(act.attribute)
            done = await hub.events(EventQuery(device_id=device, kinds=(EventKind.COMMAND,)))
            failed = await hub.events(EventQuery(device_id=device, kinds=(EventKind.COMMAND_FAILED,)))
            source = _source(door, member, home)
            if allowed:
                assert after == act.value, (door, role, device)
                assert [e.source for e in done] == [source]  # who, through which door
            else:
                assert after == before, (door, role, device)
                assert done == []
                if door != "partner":  # a partner never sees a device outside its link: nothing dispatched
                    assert [(e.source, e.data.get("error")) for e in failed] == [(source, "error.forbidden")]


async def test_the_consent_page_offers_a_member_only_what_they_may_use(home: Home) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        session = await _sign_in(client, home, "minji")
        partner, _ = home.door.add_partner(name="partner-consent")
        linking = Door(
            home.hub, home.url, session, home.door.service, home.door.endpoint, home.door.endpoint_url
        )
        async with httpx.AsyncClient(timeout=60) as browser:
            page = await signed_in_page(browser, linking, authorize_params(partner, Pkce()))
        assert sorted(read_form(page.text).devices) == ["light_small", "tv"]
