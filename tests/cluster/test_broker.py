"""The many-homes broker: a real 3-node NATS cluster with MQTT; per-home logins and their limits.

What the broker answers is asserted as it is: a subscription outside the home's topics gets SUBACK
code 128 (refused); a publish outside them is acknowledged (MQTT 3.1.1 has no negative PUBACK) and
dropped, so nothing reaches the other home.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from oneteam.cluster.broker import NatsCluster, home_topic_root
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.settings import BrokerError, parse_broker_url
from tests.cluster import nats_fixtures
from tests.cluster.nats_fixtures import Probe
from tests.integrations.mqtt.conftest import eventually

REFUSED = 128
nats_cluster = nats_fixtures.nats_cluster


def probe(cluster: NatsCluster, login: tuple[str, str], node: int, client_id: str = "") -> Probe:
    host, port = cluster.mqtt_endpoints[node]
    client = Probe(host, port, *login, client_id=client_id)
    assert client.wait_connected(), f"connect refused: {client.connect_rc}"
    return client


async def test_device_on_node_1_reaches_hub_on_node_3_with_qos_1(nats_cluster: NatsCluster) -> None:
    login = nats_cluster.add_home("cross")
    root = home_topic_root("cross")
    got: list[tuple[str, bytes]] = []
    hub = MqttClient(nats_cluster.settings(*login, node=2), name="hub")
    hub.subscribe(f"{root}/#", lambda topic, payload: got.append((topic, payload)))
    device = MqttClient(nats_cluster.settings(*login, node=0), name="device")
    async with hub, device:
        assert await hub.wait_connected(10)
        assert await device.wait_connected(10)
        await asyncio.sleep(0.3)  # the SUBSCRIBE reaches node 3 and its interest the other nodes
        for i in range(20):
            # Acknowledged (PUBACK) by node 1 only once JetStream has stored it.
            await asyncio.wait_for(device.publish_acked(f"{root}/lamp/state", f"{i}".encode()), 10)
        await eventually(lambda: len(got) >= 20, timeout_s=10)
    assert [payload for _, payload in got][:20] == [f"{i}".encode() for i in range(20)]
    assert {topic for topic, _ in got} == {f"{root}/lamp/state"}


def test_a_home_cannot_read_or_write_another_homes_topics(nats_cluster: NatsCluster) -> None:
    home_a = nats_cluster.add_home("alpha")
    home_b = nats_cluster.add_home("bravo")
    b_hub = probe(nats_cluster, home_b, node=1)
    a_client = probe(nats_cluster, home_a, node=0)
    try:
        assert b_hub.subscribe("oneteam/bravo/#") == [1]
        b_hub.publish("oneteam/bravo/door/state", b"locked", retain=True)

        # Subscriptions outside home A's root are refused, wildcards included.
        for topic in (
            "oneteam/bravo/#",
            "oneteam/bravo/door/state",
            "#",
            "oneteam/#",
            "oneteam/+/door/state",
            "+/bravo/#",
        ):
            assert a_client.subscribe(topic) == [REFUSED], topic
        # ... and the broker's own delivery subjects (NATS refuses MQTT subscriptions there).
        assert a_client.subscribe("$MQTT/sub/#") == [REFUSED]
        assert a_client.subscribe("oneteam/alpha/#") == [1]

        # Publishing into home B: acknowledged, dropped, nothing delivered, retained nothing.
        mid = a_client.publish("oneteam/bravo/door/set", b"unlock")
        a_client.publish("oneteam/bravo/door/state", b"open", qos=0, retain=True)
        assert a_client.wait(lambda: mid in a_client.published)
        time.sleep(1.0)
        assert b_hub.received("oneteam/bravo/door/set") == []
        assert b_hub.received("oneteam/bravo/door/state") == [("oneteam/bravo/door/state", b"locked")]
        late = probe(nats_cluster, home_b, node=2)
        try:
            assert late.subscribe("oneteam/bravo/door/state") == [1]
            assert late.wait(lambda: late.received() != [], timeout_s=5)
            time.sleep(0.3)
            assert late.received() == [("oneteam/bravo/door/state", b"locked")]  # B's own retained value
        finally:
            late.close()
        assert a_client.received() == []
        assert a_client.disconnects == 0
    finally:
        a_client.close()
        b_hub.close()


def test_wrong_password_and_unknown_home_are_refused(nats_cluster: NatsCluster) -> None:
    username, _ = nats_cluster.add_home("charlie")
    host, port = nats_cluster.mqtt_endpoints[0]
    for login in ((username, "not-the-password"), ("home-nobody", "x")):
        client = Probe(host, port, *login)
        try:
            assert client.wait(lambda c=client: c.connect_rc is not None or c.disconnects > 0)  # type: ignore[misc]
            assert client.connect_rc != 0
        finally:
            client.close()


def test_a_home_added_at_run_time_works_without_a_restart(nats_cluster: NatsCluster) -> None:
    home_a = nats_cluster.add_home("early")
    pids = [node.process.pid for node in nats_cluster.node_list if node.process is not None]
    early = probe(nats_cluster, home_a, node=0)
    try:
        assert early.subscribe("oneteam/early/#") == [1]
        late_login = nats_cluster.add_home("latecomer")
        hub = probe(nats_cluster, late_login, node=1)
        device = probe(nats_cluster, late_login, node=2)
        try:
            assert hub.subscribe("oneteam/latecomer/#") == [1]
            time.sleep(0.3)
            device.publish("oneteam/latecomer/plug/state", b"ON")
            assert hub.wait(lambda: hub.received() != [])
            assert hub.received() == [("oneteam/latecomer/plug/state", b"ON")]
        finally:
            hub.close()
            device.close()
        # Same processes, and home A's connection stayed up across the reload.
        assert [node.process.pid for node in nats_cluster.node_list if node.process is not None] == pids
        assert early.disconnects == 0
        early.publish("oneteam/early/x", b"still here")
        assert early.wait(lambda: early.received() != [])
    finally:
        early.close()


def test_a_removed_home_is_signed_out(nats_cluster: NatsCluster) -> None:
    login = nats_cluster.add_home("leaving")
    client = probe(nats_cluster, login, node=0)
    try:
        assert nats_cluster.remove_home("leaving")
        assert client.wait(lambda: client.disconnects > 0)
        assert "leaving" not in nats_cluster.homes
        assert not nats_cluster.remove_home("leaving")
    finally:
        client.close()


def test_bad_home_ids_and_urls_are_refused_clearly(nats_cluster: NatsCluster) -> None:
    for bad in ("", "a.b", "a/b", "a b", "#", "+", ">", "*", "x" * 65):
        with pytest.raises(BrokerError, match="home id"):
            nats_cluster.add_home(bad)
    url = nats_cluster.broker_url("home-x", "p@ss:word", first=1)
    settings = parse_broker_url(url)
    assert (settings.host, settings.port) == nats_cluster.mqtt_endpoints[1]
    assert settings.fallbacks == (nats_cluster.mqtt_endpoints[2], nats_cluster.mqtt_endpoints[0])
    assert (settings.username, settings.password) == ("home-x", "p@ss:word")
    assert settings.subscribe_qos == 0


def test_passwords_are_stored_hashed(nats_cluster: NatsCluster) -> None:
    _, password = nats_cluster.add_home("secretive")
    for node in nats_cluster.node_list:
        config = node.config_path.read_text(encoding="utf-8")
        assert password not in config
        assert '"home-secretive", password: "$2a$' in config
        assert node.config_path.stat().st_mode & 0o077 == 0
    assert password not in (nats_cluster.directory / "homes.json").read_text(encoding="utf-8")
