"""The MQTT streams' replicas, an operator's setting (nats_config.MqttOptions.stream_replicas): a
real 3-node cluster keeps as many copies of the retained states' stream as asked (the default: one
per node), and a setting the cluster cannot hold is refused before a node starts."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from oneteam.cluster.broker import NatsCluster, find_nats_server
from oneteam.cluster.nats_config import MqttOptions


def _retained_stream_copies(cluster: NatsCluster) -> tuple[int | None, int]:
    """The retained-messages stream's configured replicas, and how many nodes hold a copy (each
    node's monitor lists the streams it holds)."""
    configured, holders = None, 0
    for node in cluster.node_list:
        url = f"http://{cluster.host}:{node.http_port}/jsz?accounts=true&streams=true&config=true"
        with urllib.request.urlopen(url, timeout=5) as answer:
            report = json.loads(answer.read())
        for account in report.get("account_details", []):
            for stream in account.get("stream_detail", []):
                if stream["name"].startswith("$MQTT_rmsgs"):
                    configured = int(stream["config"]["num_replicas"])
                    holders += 1
    return configured, holders


@pytest.mark.parametrize("replicas", [None, 1], ids=["default", "one"])
def test_the_retained_stream_has_the_copies_asked(tmp_path: Path, replicas: int | None) -> None:
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (apt-get install -y nats-server)")
    # Set before the first start: NATS applies it only to MQTT streams not created yet.
    cluster = NatsCluster(directory=tmp_path / "nats", bcrypt_cost=4, stream_replicas=replicas)
    cluster.start()
    try:
        username, password = cluster.add_home("home-r")
        node = cluster.node_list[0]
        # An MQTT client's first sign-in in the account creates its streams.
        deadline = time.monotonic() + 30
        wanted = 3 if replicas is None else 1
        found: tuple[int | None, int] = (None, 0)
        while found != (wanted, wanted) and time.monotonic() < deadline:
            node.mqtt_signs_in(cluster.host, username, password)
            found = _retained_stream_copies(cluster)
            time.sleep(0.2)
        assert found == (wanted, wanted)
    finally:
        cluster.stop()


def test_more_copies_than_nodes_are_refused() -> None:
    assert MqttOptions(5.0, 1000).replicas(3) == 3
    assert MqttOptions(5.0, 1000).replicas(1) == 1
    assert MqttOptions(5.0, 1000, 2).replicas(3) == 2
    with pytest.raises(ValueError, match="between 1 and 3"):
        MqttOptions(5.0, 1000, 4).replicas(3)
    with pytest.raises(ValueError, match="between 1 and 3"):
        MqttOptions(5.0, 1000, 0).replicas(3)
