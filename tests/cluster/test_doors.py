"""Any process of the cluster answers for any home: a request reaching a process that does not
serve the home is carried to the owner (HTTP and WebSocket) with the caller's credentials, since
clients drop Authorization on a redirect to another origin.

Two real `oneteam serve --cluster` processes over one real PostgreSQL, homes spread over both; each
home is asked at the process that does NOT serve it. Last, the owner of a home is killed: the other
process answers 503 with Retry-After until it has taken the home over.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from tests.cluster.cluster_nodes import Node, register_homes, start_node, wait_served
from tests.conftest import oneteam_cli
from tests.hub.postgres_server import running_postgres

HOMES = ["d1", "d2", "d3", "d4"]


@dataclass
class Cluster:
    url: str
    nodes: dict[str, Node]
    tokens: dict[str, str]
    data_dir: Path

    def served(self) -> dict[str, str]:
        return wait_served(list(self.nodes.values()), HOMES, spread=2)

    def elsewhere(self, home: str) -> Node:
        """A process that does not serve `home` now."""
        owner = self.served()[home]
        return next(n for n in self.nodes.values() if n.node_id != owner)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("doors")
    with running_postgres() as url:
        tokens = register_homes(url, HOMES)
        nodes: dict[str, Node] = {}
        try:
            for name in ("p1", "p2"):
                nodes[name] = start_node(url, name, data_dir, "virtual")
            wait_served(list(nodes.values()), HOMES, spread=2)
            yield Cluster(url, nodes, tokens, data_dir)
        finally:
            for node in nodes.values():
                node.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_http_is_carried_to_the_owner_with_the_callers_token(cluster: Cluster) -> None:
    home = HOMES[0]
    served = cluster.served()
    owner, other = cluster.nodes[served[home]], cluster.elsewhere(home)
    path = f"/homes/{home}/api/devices/light_living"
    with httpx.Client(timeout=15) as client:
        direct = client.get(f"{owner.url}{path}/state", headers=bearer(cluster.tokens[home]))
        carried = client.get(f"{other.url}{path}/state", headers=bearer(cluster.tokens[home]))
        assert carried.status_code == direct.status_code == 200, carried.text
        assert carried.json()["device_id"] == direct.json()["device_id"] == "light_living"
        # A body goes through, and the command is done at the owner.
        value = 37 if direct.json()["attributes"].get("brightness") != 37 else 38
        command = client.post(
            f"{other.url}{path}/commands",
            json={"command": "set_brightness", "value": value},
            headers=bearer(cluster.tokens[home]),
        )
        assert command.status_code == 200, command.text
        after = client.get(f"{owner.url}{path}/state", headers=bearer(cluster.tokens[home])).json()
        assert after["attributes"]["brightness"] == value
        # The owner's own refusals come back as they are: no token, another home's token, bad input.
        assert client.get(f"{other.url}{path}/state").status_code == 401
        stranger = next(t for h, t in cluster.tokens.items() if h != home)
        assert client.get(f"{other.url}{path}/state", headers=bearer(stranger)).status_code == 401
        bad = client.post(
            f"{other.url}{path}/commands",
            content=b"{not json",
            headers={**bearer(cluster.tokens[home]), "content-type": "application/json"},
        )
        assert bad.status_code == 422, bad.text
        # A request already carried once is never carried again (no loops between processes).
        hop = client.get(
            f"{other.url}{path}/state",
            headers={**bearer(cluster.tokens[home]), "x-oneteam-forwarded-by": "p9"},
        )
        assert hop.status_code == 503
        assert hop.headers["retry-after"] == "1"


def test_a_websocket_is_carried_to_the_owner_both_ways(cluster: Cluster) -> None:
    home = HOMES[1]
    other = cluster.elsewhere(home)
    base = f"{other.url}/homes/{home}/api/ws".replace("http://", "ws://")

    async def session() -> tuple[dict[str, object], dict[str, object]]:
        async with websockets.connect(
            base, additional_headers=bearer(cluster.tokens[home]), open_timeout=15
        ) as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), 15))
            await socket.send(
                json.dumps({"type": "command", "device": "light_kitchen", "command": "turn_on", "id": 7})
            )
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                message = json.loads(await asyncio.wait_for(socket.recv(), 15))
                if message.get("type") == "result" and message.get("id") == 7:
                    return first, message
            raise AssertionError("no answer to the command over the carried socket")

    async def refused(token: str, origin: str | None = None) -> int:
        try:
            async with websockets.connect(
                f"{base}?token={token}",
                open_timeout=15,
                origin=origin,  # type: ignore[arg-type]
            ):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    first, answer = asyncio.run(session())
    assert first["type"] == "hello" and "light_kitchen" in first["states"], first  # type: ignore[operator]
    assert answer["ok"] is True, answer
    state = httpx.get(
        f"{other.url}/homes/{home}/api/devices/light_kitchen/state",
        headers=bearer(cluster.tokens[home]),
        timeout=15,
    ).json()
    assert state["attributes"]["power"] is True
    stranger = next(t for h, t in cluster.tokens.items() if h != home)
    assert asyncio.run(refused(stranger)) == 403
    assert asyncio.run(refused(cluster.tokens[home], origin="http://evil.example")) == 403


def test_partner_commands_reach_the_home_they_are_given(cluster: Cluster) -> None:
    def cli(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
        where = ("--database-url", cluster.url, "--data-dir", str(cluster.data_dir))
        return oneteam_cli(*args, *where, env={"ONETEAM_LANG": lang})

    added = cli(
        "partners",
        "add",
        "--home",
        "d1",
        "--name",
        "Cloud",
        "--redirect-uri",
        "https://cloud.example/cb",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    client_id = json.loads(added.stdout)["client_id"]
    listed = {
        home: json.loads(cli("partners", "list", "--home", home, "--json").stdout) for home in ("d1", "d2")
    }
    assert [p["client_id"] for p in listed["d1"]["partners"]] == [client_id]
    assert listed["d2"]["partners"] == []
    assert json.loads(cli("links", "list", "--home", "d1", "--json").stdout) == {"links": []}
    # Another home's partner is not there to remove; bad and unknown homes are refused clearly.
    missing = cli("partners", "remove", client_id, "--home", "d2")
    assert missing.returncode == 2 and client_id in missing.stderr
    bad = cli("partners", "list", "--home", "../d1", lang="ko")
    assert bad.returncode == 2 and "집 ID '../d1'는 쓸 수 없어요" in bad.stderr, bad.stderr
    unknown = cli("links", "list", "--home", "nowhere")
    assert unknown.returncode == 2 and "Home nowhere is not registered" in unknown.stderr, unknown.stderr
    assert cli("partners", "remove", client_id, "--home", "d1").returncode == 0


def test_a_dead_owners_homes_answer_503_until_taken_over(cluster: Cluster) -> None:
    served = cluster.served()
    victim = cluster.nodes["p1"]
    survivor = cluster.nodes["p2"]
    home = next(h for h, n in served.items() if n == victim.node_id)
    victim.kill()
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=15) as client:
        while time.monotonic() < deadline:
            answer = client.get(
                f"{survivor.url}/homes/{home}/api/devices", headers=bearer(cluster.tokens[home])
            )
            seen.add(answer.status_code)
            if answer.status_code == 200:
                break
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "1"
            time.sleep(0.2)
    assert 503 in seen and 200 in seen, seen
