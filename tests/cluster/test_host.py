"""Two homes in one cluster process: each answers only its own credentials, at every door.

One real `oneteam serve --cluster` process over a real PostgreSQL serves homes `alpha` and `beta`
(the same home file, so the same device ids exist in both). Home alpha's credentials are tried at
beta through REST, a command, the WebSocket, the conversation, MCP (its HTTP client side, as
`oneteam mcp` reaches a hub) and the partner door's fulfillment with an OAuth token linked at
alpha; each is refused, while beta's own pass. (MQTT is kept apart by the broker's ACLs:
tests/cluster/test_broker*.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from oneteam.cluster.tenant_stores import TenantStores
from oneteam.interop.mcp.home import RemoteHome
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME
from tests.cluster.cluster_nodes import Node, register_homes, start_node, wait_served
from tests.hub.postgres_server import running_postgres
from tests.interop.smarthome.conftest import execute_body, intent, link_account

HOMES = ["alpha", "beta"]


@dataclass
class Cluster:
    url: str
    node: Node
    tokens: dict[str, str]
    data_dir: Path

    def at(self, home: str) -> str:
        return f"{self.node.url}/homes/{home}"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("node")
    with running_postgres() as url:
        tokens = register_homes(url, HOMES)
        node = start_node(url, "n1", data_dir, "virtual,conversation,smarthome")
        try:
            wait_served([node], HOMES)
            yield Cluster(url, node, tokens, data_dir)
        finally:
            node.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_rest_reads_and_commands_answer_only_the_homes_own_tokens(cluster: Cluster) -> None:
    for home in HOMES:
        for owner, token in cluster.tokens.items():
            answer = httpx.get(f"{cluster.at(home)}/api/devices", headers=bearer(token), timeout=10)
            assert answer.status_code == (200 if owner == home else 401), (home, owner, answer.text)
    before = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_living/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    wrong = httpx.post(
        f"{cluster.at('beta')}/api/devices/light_living/commands",
        json={"command": "turn_off" if before["attributes"].get("power") else "turn_on"},
        headers=bearer(cluster.tokens["alpha"]),
        timeout=10,
    )
    assert wrong.status_code == 401
    after = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_living/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    assert after["attributes"] == before["attributes"]
    # The same command with alpha's token at alpha changes alpha's light, not beta's.
    done = httpx.post(
        f"{cluster.at('alpha')}/api/devices/light_living/commands",
        json={"command": "set_brightness", "value": 37},
        headers=bearer(cluster.tokens["alpha"]),
        timeout=10,
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"]["attributes"]["brightness"] == 37
    beta_light = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_living/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    assert beta_light["attributes"].get("brightness") == before["attributes"].get("brightness")


def test_websocket_opens_only_with_the_homes_own_token(cluster: Cluster) -> None:
    base = cluster.at("beta").replace("http://", "ws://")

    async def attempt(token: str) -> dict[str, object] | int:
        try:
            async with websockets.connect(f"{base}/api/ws?token={token}", open_timeout=10) as socket:
                return dict(json.loads(await asyncio.wait_for(socket.recv(), 10)))
        except websockets.InvalidStatus as refused:
            return refused.response.status_code

    assert asyncio.run(attempt(cluster.tokens["alpha"])) == 403
    opened = asyncio.run(attempt(cluster.tokens["beta"]))
    assert isinstance(opened, dict), opened


def test_conversation_answers_only_the_homes_own_token(cluster: Cluster) -> None:
    sentence = {"text": "주방 불 켜 줘", "language": "ko"}
    refused = httpx.post(
        f"{cluster.at('beta')}/api/conversation",
        json=sentence,
        headers=bearer(cluster.tokens["alpha"]),
        timeout=30,
    )
    assert refused.status_code == 401
    kitchen = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_kitchen/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    assert kitchen["attributes"].get("power") is not True
    answered = httpx.post(
        f"{cluster.at('beta')}/api/conversation",
        json=sentence,
        headers=bearer(cluster.tokens["beta"]),
        timeout=60,
    )
    assert answered.status_code == 200, answered.text
    kitchen = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_kitchen/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    assert kitchen["attributes"]["power"] is True


def test_mcp_client_side_knows_only_the_homes_own_token(cluster: Cluster) -> None:
    async def check() -> tuple[str | None, str | None, int]:
        wrong = RemoteHome(cluster.at("beta"), cluster.tokens["alpha"])
        right = RemoteHome(cluster.at("beta"), cluster.tokens["beta"])
        try:
            return (
                await wrong.identify(cluster.tokens["alpha"]),
                await right.identify(cluster.tokens["beta"]),
                len(await right.devices()),
            )
        finally:
            await wrong.aclose()
            await right.aclose()

    stranger, member, devices = asyncio.run(check())
    assert stranger is None
    assert member is not None
    assert devices > 0


@dataclass
class _DoorAt:
    """What link_account needs of a door: its URL and a token to sign in with."""

    url: str
    hub_token: str


def test_partner_token_linked_at_one_home_is_unknown_at_the_other(cluster: Cluster) -> None:
    async def check() -> tuple[int, int]:
        stores = TenantStores(cluster.url, partner_key=cluster.data_dir / KEY_FILE_NAME)
        await stores.open()
        try:
            partner, secret = await asyncio.to_thread(
                stores.partners("alpha").add_partner,
                "GiGA Genie",
                ["https://partner.example/link/callback"],
                rate_per_minute=10_000,
            )
        finally:
            await stores.close()
        async with httpx.AsyncClient(timeout=30) as client:
            tokens = await link_account(
                client,
                _DoorAt(cluster.at("alpha"), cluster.tokens["alpha"]),
                partner,
                secret,  # type: ignore[arg-type]
            )
            body = json.dumps(intent("EXECUTE", execute_body(["light_small"], "OnOff", {"on": True})))
            headers = {**bearer(tokens["access_token"]), "content-type": "application/json"}
            at_beta = await client.post(
                f"{cluster.at('beta')}/api/smarthome/fulfillment", content=body, headers=headers
            )
            at_alpha = await client.post(
                f"{cluster.at('alpha')}/api/smarthome/fulfillment", content=body, headers=headers
            )
        return at_beta.status_code, at_alpha.status_code

    at_beta, at_alpha = asyncio.run(check())
    assert at_beta == 401
    assert at_alpha == 200
    small = httpx.get(
        f"{cluster.at('beta')}/api/devices/light_small/state",
        headers=bearer(cluster.tokens["beta"]),
        timeout=10,
    ).json()
    assert small["attributes"].get("power") is not True


def test_router_answers_unknown_homes_and_paths_with_clear_errors(cluster: Cluster) -> None:
    unknown = httpx.get(f"{cluster.node.url}/homes/nobody/api/devices", timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_home"
    outside = httpx.get(f"{cluster.node.url}/api/devices", timeout=10)
    assert outside.status_code == 404
    health = httpx.get(f"{cluster.node.url}/cluster/health", timeout=10).json()
    assert health["node"] == "n1"
    assert sorted(h["id"] for h in health["homes"]) == HOMES
