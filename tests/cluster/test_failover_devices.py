"""After a kill -9, a home's MQTT devices and its WebSocket clients come back with it (issue #21).

Three real `oneteam serve --cluster` processes with MQTT, one real PostgreSQL and a real 3-node
NATS cluster; a home's simulated devices sign in with the home's own login and stay connected to
the broker while the process serving the home is killed. A WebSocket client of that process sees
its socket end, connects again at any survivor, and hears the device's next report from the home's
new owner; a command sent at a survivor reaches the device through the new owner's MQTT client.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets

from oneteam.cluster.broker import NatsCluster, home_topic_root
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.integrations.mqtt.topics import HomeTopics
from tests.cluster.cluster_nodes import DEMO_HOME, Node, start_node, wait_served
from tests.cluster.nats_fixtures import start_cluster
from tests.conftest import oneteam_cli
from tests.hub.postgres_server import running_postgres

HOMES = ["devhome0", "devhome1", "devhome2"]
HOME = HOMES[0]
LIGHT = "sim_light_00000"
BACK_S = 45.0
"""How long after the kill the device must answer a command again: the home is served ~4 s after
(test_failover.py), its MQTT client signs in once the survivor has opened what it took; the rest is
margin for a loaded CI machine."""


@dataclass
class Cluster:
    nats: NatsCluster
    nodes: list[Node]
    tokens: dict[str, str]
    logins: dict[str, tuple[str, str]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nats = start_cluster(tmp_path_factory.mktemp("nats"))
    data_dir = tmp_path_factory.mktemp("nodes")
    nodes: list[Node] = []
    try:
        with running_postgres() as url:
            logins = nats.add_homes(HOMES)
            tokens: dict[str, str] = {}
            for home_id, (user, password) in logins.items():
                added = oneteam_cli(
                    "cluster", "add-home", home_id, "--home", str(DEMO_HOME), "--database-url", url,
                    "--mqtt-username", user, "--mqtt-password", password,
                )  # fmt: skip
                assert added.returncode == 0, added.stderr
                made = oneteam_cli(
                    "cluster", "token", home_id, "--name", "t", "--quiet", "--database-url", url
                )
                assert made.returncode == 0, made.stderr
                tokens[home_id] = made.stdout.strip()
            for i, name in enumerate(("n1", "n2", "n3")):
                broker = nats.broker_url("-", "-", first=i)  # each home's own login replaces these
                nodes.append(start_node(url, name, data_dir, "virtual,mqtt", broker=broker))
            yield Cluster(nats, nodes, tokens, logins)
            for node in nodes:
                node.stop()
    finally:
        for node in nodes:
            node.stop()
        nats.stop()


def _ws(node: Node) -> str:
    return f"{node.url}/homes/{HOME}/api/ws".replace("http://", "ws://")


async def _heard(socket: Any, device: str, change: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """The first state change of `device` the socket hears that holds `change`."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads(await socket.recv())
            if message.get("type") == "event":
                event = message["event"]
                wanted = event["kind"] == "state_changed" and event["device_id"] == device
                if wanted and change.items() <= event["data"].items():
                    return dict(event)


async def _connect_again(nodes: list[Node], token: str, deadline: float) -> Any:
    """Connect at any live process, as a client does after its socket ended, until one accepts."""
    while True:
        for node in nodes:
            try:
                return await websockets.connect(
                    _ws(node), additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=5
                )
            except (OSError, TimeoutError, websockets.InvalidStatus, websockets.InvalidHandshake):
                pass
        assert time.monotonic() < deadline, "no process took the socket again"
        await asyncio.sleep(0.5)


async def _command_until_done(
    client: httpx.AsyncClient, url: str, token: str, deadline: float
) -> dict[str, Any]:
    """A command, asked again while the home or its device is not back yet (503 + Retry-After)."""
    while True:
        answer = await client.post(
            url, headers={"Authorization": f"Bearer {token}"}, json={"command": "set_brightness", "value": 30}
        )
        if answer.status_code == 200:
            return dict(answer.json())
        assert answer.status_code == 503 and time.monotonic() < deadline, (answer.status_code, answer.text)
        await asyncio.sleep(0.5)


async def test_devices_and_websocket_clients_come_back_with_a_killed_process_homes(cluster: Cluster) -> None:
    topics = HomeTopics(home_topic_root(HOME))
    token = cluster.tokens[HOME]
    settings = cluster.nats.settings(*cluster.logins[HOME], node=0)
    simulator = Simulator(settings, 3, base=topics.simulator_base, prefix=topics.discovery_prefix)
    async with simulator, httpx.AsyncClient(timeout=20) as client:
        assert await simulator.wait_connected(15)
        served = await asyncio.to_thread(wait_served, cluster.nodes, HOMES)
        owner = next(n for n in cluster.nodes if n.node_id == served[HOME])
        survivors = [n for n in cluster.nodes if n is not owner]
        device = simulator.devices[LIGHT]

        # The home's hub knows the device through the broker, and a client listens at its owner.
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 30
        while True:
            listed = await client.get(f"{owner.url}/homes/{HOME}/api/devices", headers=auth)
            if listed.status_code == 200 and LIGHT in {d["id"] for d in listed.json()["devices"]}:
                break
            assert time.monotonic() < deadline, listed.text
            await asyncio.sleep(0.3)
        socket = await websockets.connect(_ws(owner), additional_headers=auth, open_timeout=10)
        hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert hello["type"] == "hello" and LIGHT in hello["states"], hello

        await asyncio.to_thread(owner.kill)
        killed = time.monotonic()
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(15):
                while True:
                    await socket.recv()  # events until the socket ends with its process

        # The client connects again at a survivor; the device's next report reaches it there.
        socket = await _connect_again(survivors, token, killed + BACK_S)
        try:
            hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert hello["type"] == "hello", hello
            obeyed = len(device.received)
            url = f"{survivors[0].url}/homes/{HOME}/api/devices/{LIGHT}/commands"
            state = await _command_until_done(client, url, token, killed + BACK_S)
            back_s = time.monotonic() - killed
            assert state["ok"] is True and state["state"]["attributes"]["brightness"] == 30, state
            assert len(device.received) > obeyed, "the command did not reach the device"
            assert abs(device.state["brightness"] - 30 * 255 / 100) <= 1, device.state  # 0-255 there

            device.state["state"] = "OFF"  # switched off at the wall switch, say
            simulator.gateway_of(LIGHT).report(device)
            await _heard(socket, LIGHT, {"power": False}, timeout_s=15)  # from the new owner's hub
        finally:
            await socket.close()
        print(f"device answered a command {back_s:.1f} s after the kill")
        now_served = await asyncio.to_thread(wait_served, survivors, HOMES)
        assert now_served[HOME] != owner.node_id
