"""A real 3-node NATS cluster (nats-server with MQTT and JetStream) for the broker tests, and a
small synchronous paho client for looking at what the broker answers (SUBACK codes, drops)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.cluster.broker import NatsCluster, find_nats_server


def start_cluster(directory: Path) -> NatsCluster:
    """A started cluster in `directory`; skips (a failure with ONETEAM_REQUIRE_ALL=1) without nats-server."""
    if find_nats_server() is None:
        pytest.skip("nats-server is not installed (apt-get install -y nats-server)")
    # bcrypt cost 4: the tests sign in dozens of clients on a shared CPU; the default is 11.
    cluster = NatsCluster(directory=directory, bcrypt_cost=4)
    cluster.__enter__()
    return cluster


@pytest.fixture(scope="module")
def nats_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    """One cluster shared by a module's tests (each test uses homes of its own)."""
    cluster = start_cluster(tmp_path_factory.mktemp("nats"))
    yield cluster
    cluster.stop()
    assert not cluster.deaths, f"NATS nodes died during the tests: {cluster.deaths}"


class Probe:
    """A plain paho client on its own thread: records messages, SUBACK codes and disconnects."""

    def __init__(self, host: str, port: int, username: str, password: str, *, client_id: str = "") -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.granted: dict[int, list[int]] = {}
        self.published: set[int] = set()
        self.disconnects = 0
        self.connect_rc: int | None = None
        self._lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        self.connect_rc = int(getattr(reason, "value", 0))

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def _on_subscribe(
        self, client: paho.Client, userdata: object, mid: int, codes: list[object], props: object
    ) -> None:
        self.granted[mid] = [int(getattr(code, "value", code)) for code in codes]  # type: ignore[call-overload]

    def _on_publish(
        self, client: paho.Client, userdata: object, mid: int, reason: object, props: object
    ) -> None:
        self.published.add(mid)

    def _on_disconnect(
        self, client: paho.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        self.disconnects += 1

    def wait(self, check: object, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():  # type: ignore[operator]
                return True
            time.sleep(0.01)
        return False

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        return self.wait(lambda: self.connect_rc is not None, timeout_s) and self.connect_rc == 0

    def subscribe(self, topic: str, qos: int = 1) -> list[int]:
        """Subscribe and return the SUBACK codes (0/1 granted QoS, 128 refused)."""
        _, mid = self.client.subscribe(topic, qos)
        assert self.wait(lambda: mid in self.granted), f"no SUBACK for {topic}"
        return self.granted[mid]

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        return self.client.publish(topic, payload, qos=qos, retain=retain).mid

    def received(self, topic_prefix: str = "") -> list[tuple[str, bytes]]:
        with self._lock:
            return [m for m in self.messages if m[0].startswith(topic_prefix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
