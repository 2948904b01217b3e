"""The device fabric for many homes: a NATS server cluster speaking MQTT, one login per home.

`NatsCluster` writes the config of a small NATS cluster on loopback (routes between the nodes,
JetStream with a store folder per node, an MQTT listener per node), runs each node as a child
process it watches (a node that dies unasked is logged at once), and can kill one with SIGKILL for
the failover tests and the bench. NATS keeps MQTT sessions, retained messages and QoS 1 messages
in JetStream, replicated over the nodes, so a device or hub whose node dies reconnects to another
and finds its session and undelivered messages there.

Homes are tenants of one NATS account, each with its own user: `add_home(home_id)` returns a
fresh (username, password) whose rights are the home's topics `oneteam/<home_id>/#` (NATS subjects
`oneteam.<home_id>` and `oneteam.<home_id>.>`) plus the delivery subjects NATS's MQTT layer
subscribes to for QoS 1 (`$MQTT.sub.>`; the server itself refuses MQTT subscriptions under that
prefix, and the user may only connect over MQTT, so it is no way into another home). Passwords are
stored bcrypt-hashed in the config; the clear one is returned once. Adding or removing a home
rewrites the configs and reloads every running node (SIGHUP): nothing restarts, no client drops.

The config text is written by oneteam.cluster.nats_config, each node's process is run and watched
by oneteam.cluster.nats_node; this module keeps the cluster, its homes and its CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from oneteam.cluster.nats_config import (
    TOPIC_PREFIX,
    MqttOptions,
    NatsUser,
    hash_password,
    home_subjects,
    node_config,
)
from oneteam.cluster.nats_node import NatsNode, find_nats_server, place_nodes
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings

PORT_TRIES = 3
"""Starts on new free ports after a port was taken before its node could listen on it."""

__all__ = ["NatsCluster", "NatsNode", "check_home_id", "find_nats_server", "home_topic_root", "main"]

_LOGGER = logging.getLogger(__name__)

HOME_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Home ids that are one MQTT topic level and one NATS token (no '.', '/', wildcards or spaces);
the same set `oneteam cluster add-home` accepts."""
USER_PREFIX = "home-"
PROBE_USER = "_probe"
"""An internal login with rights on nothing but `_probe/#`: start() signs in with it on every node
to know MQTT is serving (the first MQTT client of an account makes its JetStream streams)."""
BCRYPT_COST = 11
"""NATS checks the hash at every connection: cost 11 is ~0.1 s of one core per sign-in here."""


def home_topic_root(home_id: str) -> str:
    """The MQTT topic root of a home: `oneteam/<home_id>`."""
    return f"{TOPIC_PREFIX}/{check_home_id(home_id)}"


def check_home_id(home_id: str) -> str:
    """`home_id` if it can name a topic level and a NATS token; BrokerError otherwise."""
    if not HOME_ID.fullmatch(home_id):
        raise BrokerError(
            "home id must be 1-64 of A-Z, a-z, 0-9, '_' or '-' (no '.': NATS splits subjects there),"
            f" got {home_id!r}"
        )
    return home_id


@dataclass(kw_only=True)
class NatsCluster:
    """A NATS cluster of `nodes` servers on loopback with MQTT and JetStream on each.

    Ports: with `base_port`, node i uses base_port + 10·i + (0 client, 1 route, 2 MQTT, 3 HTTP
    monitor); without, free ports are picked. Use as a context manager or call start()/stop().
    """

    directory: Path
    nodes: int = 3
    base_port: int | None = None
    host: str = "127.0.0.1"
    bcrypt_cost: int = BCRYPT_COST
    """Lower only for tests and benches that sign in thousands of clients on a shared CPU."""
    ack_wait_s: float = 5.0
    """How long a node waits for a QoS 1 PUBACK before it sends the message again."""
    max_ack_pending: int = 1000
    """Unacknowledged QoS 1 messages per subscription before a node holds the rest back."""
    stream_replicas: int | None = None
    """Copies of the MQTT streams (nats_config.MqttOptions); None: one per node, at most 3."""
    binary: Path | None = None
    node_list: list[NatsNode] = field(default_factory=list, init=False)
    _homes: dict[str, str] = field(default_factory=dict, init=False)
    """home_id → bcrypt hash of its password (also kept in homes.json)."""
    _probe_password: str = field(default="", init=False)
    _probe_hash: str = field(default="", init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _watchers: list[threading.Thread] = field(default_factory=list, init=False)
    deaths: list[tuple[str, int]] = field(default_factory=list, init=False)
    """(node name, exit code) of every node that exited without being asked, in order."""

    def __post_init__(self) -> None:
        if not 1 <= self.nodes <= 9:
            raise BrokerError(f"a NATS cluster here has 1 to 9 nodes, not {self.nodes}")
        self.directory = Path(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.node_list = place_nodes(self.nodes, self.directory, self.base_port)
        homes_file = self._homes_file
        if homes_file.exists():
            self._homes = dict(json.loads(homes_file.read_text(encoding="utf-8")))
        self._probe_password = secrets.token_urlsafe(24)
        self._probe_hash = hash_password(self._probe_password, 4)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def mqtt_endpoints(self) -> list[tuple[str, int]]:
        """(host, port) of every node's MQTT listener, node 1 first."""
        return [(self.host, node.mqtt_port) for node in self.node_list]

    @property
    def mqtt_urls(self) -> list[str]:
        """`mqtt://host:port` of every node's MQTT listener."""
        return [f"mqtt://{host}:{port}" for host, port in self.mqtt_endpoints]

    def broker_url(self, username: str, password: str, *, first: int = 0) -> str:
        """One URL naming every node (`mqtt://user:pass@h:p1,h:p2,h:p3?subscribe_qos=0`), node
        `first` tried first; subscriptions at QoS 0 as in `settings`."""
        endpoints = self.mqtt_endpoints[first:] + self.mqtt_endpoints[:first]
        hosts = ",".join(f"{host}:{port}" for host, port in endpoints)
        return f"mqtt://{quote(username, safe='')}:{quote(password, safe='')}@{hosts}?subscribe_qos=0"

    def settings(self, username: str, password: str, *, node: int = 0, **extra: Any) -> BrokerSettings:
        """How a client signs in at node `node` (0-based), the other nodes as fallbacks in order.

        Subscriptions at QoS 0 (`subscribe_qos`, docs/mqtt.md): NATS 2.9 can leave a QoS 1
        subscription's JetStream consumer deaf after a node dies."""
        endpoints = self.mqtt_endpoints[node:] + self.mqtt_endpoints[:node]
        host, port = endpoints[0]
        extra = {"subscribe_qos": 0, **extra}
        return BrokerSettings(
            host=host,
            port=port,
            username=username,
            password=password,
            fallbacks=tuple(endpoints[1:]),
            **extra,
        )

    # -- homes -------------------------------------------------------------------------------

    @property
    def homes(self) -> list[str]:
        """The homes with a login, sorted."""
        return sorted(self._homes)

    @staticmethod
    def username_for(home_id: str) -> str:
        """The broker login name of a home."""
        return f"{USER_PREFIX}{check_home_id(home_id)}"

    def add_home(self, home_id: str) -> tuple[str, str]:
        """Give a home its login, live on every running node; (username, clear password), once.

        Adding a home that has one replaces its password (the old one stops working)."""
        check_home_id(home_id)
        password = secrets.token_urlsafe(24)
        hashed = hash_password(password, self.bcrypt_cost)
        with self._lock:
            self._homes[home_id] = hashed
            self._save_homes()
            self._write_configs()
            self._reload()
        return self.username_for(home_id), password

    def add_homes(self, home_ids: list[str]) -> dict[str, tuple[str, str]]:
        """`add_home` for many homes with one reload; home_id → (username, password)."""
        logins: dict[str, tuple[str, str]] = {}
        with self._lock:
            for home_id in home_ids:
                check_home_id(home_id)
                password = secrets.token_urlsafe(24)
                self._homes[home_id] = hash_password(password, self.bcrypt_cost)
                logins[home_id] = (self.username_for(home_id), password)
            self._save_homes()
            self._write_configs()
            self._reload()
        return logins

    def remove_home(self, home_id: str) -> bool:
        """Take a home's login away (live); whether it had one. Its connected clients are closed."""
        with self._lock:
            if self._homes.pop(home_id, None) is None:
                return False
            self._save_homes()
            self._write_configs()
            self._reload()
        return True

    @property
    def _homes_file(self) -> Path:
        return self.directory / "homes.json"

    def _save_homes(self) -> None:
        tmp = self._homes_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._homes, indent=0, sort_keys=True), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(self._homes_file)

    # -- config ------------------------------------------------------------------------------

    def config_text(self, node: NatsNode) -> str:
        """The whole config of one node."""
        users = [NatsUser(PROBE_USER, self._probe_hash, ("_probe", "_probe.>"))]
        users += [
            NatsUser(self.username_for(home_id), hashed, home_subjects(home_id))
            for home_id, hashed in sorted(self._homes.items())
        ]
        return node_config(
            node,
            peers=[other for other in self.node_list if other is not node],
            host=self.host,
            users=users,
            mqtt=MqttOptions(self.ack_wait_s, self.max_ack_pending, self.stream_replicas),
        )

    def _write_configs(self) -> None:
        for node in self.node_list:
            node.directory.mkdir(parents=True, exist_ok=True)
            tmp = node.config_path.with_suffix(".tmp")
            tmp.write_text(self.config_text(node), encoding="utf-8")
            tmp.chmod(0o600)
            tmp.replace(node.config_path)

    # -- monitoring --------------------------------------------------------------------------

    def _reload(self) -> None:
        """SIGHUP every running node and wait until each has loaded the new config."""
        before = {node.name: (node.varz(self.host) or {}).get("config_load_time") for node in self.node_list}
        for node in self.node_list:
            if node.alive and node.process is not None:
                node.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10.0
        for node in self.node_list:
            while node.alive and time.monotonic() < deadline:
                varz = node.varz(self.host)
                if varz is not None and varz.get("config_load_time") != before[node.name]:
                    break
                time.sleep(0.02)
            else:
                if node.alive:
                    raise BrokerError(f"NATS node {node.name} did not reload its config within 10 s")

    # -- processes ---------------------------------------------------------------------------

    def start(self, timeout_s: float = 60.0) -> None:
        """Write the configs, start every node, and wait until each serves MQTT. A free port may be
        given to another connection before its node binds it (once in a CI run): the cluster then
        starts on new free ports, PORT_TRIES times at most; an operator's `base_port` fails at once."""
        if self.binary is None:
            self.binary = find_nats_server()
        if self.binary is None:
            raise BrokerError("nats-server is not installed (apt-get install -y nats-server)")
        for attempt in range(1, PORT_TRIES + 1):
            deaths = len(self.deaths)
            with self._lock:
                self._write_configs()
            try:
                for node in self.node_list:
                    self._spawn(node)
                self.wait_ready(timeout_s)
                return
            except BaseException as exc:
                self.stop()  # no half-started cluster left running
                retry = isinstance(exc, BrokerError) and self.base_port is None and attempt < PORT_TRIES
                taken = [n.name for n in self.node_list if n.port_was_taken()] if retry else []
                if not taken:
                    raise
                _LOGGER.warning("a port of NATS node %s was taken: starting on new ports", taken[0])
                del self.deaths[deaths:]  # asked-for starts that failed, not deaths of a running node
                for node in self.node_list:
                    node.log_path.unlink(missing_ok=True)
                self.node_list = place_nodes(self.nodes, self.directory, self.base_port)

    def start_node(self, index: int, timeout_s: float = 60.0) -> None:
        """Start one node again (after `kill_node` or a crash) and wait until it serves MQTT."""
        node = self.node_list[index]
        if node.alive:
            return
        self._spawn(node)
        self.wait_ready(timeout_s, only=[node])

    def _spawn(self, node: NatsNode) -> None:
        assert self.binary is not None
        self._watchers.append(node.spawn(self.binary, self._died))

    def _died(self, node: NatsNode, code: int) -> None:
        self.deaths.append((node.name, code))
        _LOGGER.error(
            "NATS node %s exited with %d without being asked (log: %s)", node.name, code, node.log_path
        )

    def wait_ready(self, timeout_s: float = 60.0, *, only: list[NatsNode] | None = None) -> None:
        """Wait until the nodes (all running ones, or `only`) accept an MQTT sign-in; BrokerError
        as soon as one of them exits (a port taken, a bad store) or at the deadline."""
        deadline = time.monotonic() + timeout_s
        nodes = only or [n for n in self.node_list if n.process is not None]
        for node in nodes:
            while True:
                for other in nodes:
                    if not other.alive:
                        code = other.process.wait() if other.process is not None else None
                        raise BrokerError(f"NATS node {other.name} exited with {code}; see {other.log_path}")
                if time.monotonic() > deadline:
                    raise BrokerError(
                        f"NATS node {node.name} not ready within {timeout_s:g} s; see {node.log_path}"
                    )
                # /healthz is strict (every stream and consumer caught up): a node restarted into a
                # busy cluster serves MQTT well before it says healthy. The sign-in decides.
                if node.varz(self.host) is None:
                    time.sleep(0.1)
                    continue
                ready = node.mqtt_signs_in(self.host, PROBE_USER, self._probe_password)
                if ready:
                    break
                time.sleep(0.2)

    def kill_node(self, index: int) -> None:
        """End node `index` (0-based) with SIGKILL: no goodbye to its clients, as a crash would."""
        self.node_list[index].kill()

    def stop_node(self, index: int) -> None:
        """End node `index` politely (SIGTERM), then firmly."""
        self.node_list[index].stop()

    def stop(self) -> None:
        """End every node."""
        for index in range(len(self.node_list)):
            self.stop_node(index)
        for watcher in self._watchers:
            watcher.join(timeout=5)
        self._watchers.clear()

    def health(self) -> dict[str, bool]:
        """Node name → whether its process runs."""
        return {node.name: node.alive for node in self.node_list}

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m oneteam.cluster.broker DIR [--base-port N] [--home ID ...]`: run a cluster until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m oneteam.cluster.broker", description=main.__doc__)
    parser.add_argument("directory", type=Path, help="folder for the configs, JetStream stores and logs")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--base-port", type=int, default=4300)
    parser.add_argument("--home", action="append", default=[], help="add a login for this home (repeatable)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        for home_id in args.home:
            check_home_id(home_id)  # before anything starts
        cluster = NatsCluster(directory=args.directory, nodes=args.nodes, base_port=args.base_port)
        with cluster:
            for home_id in args.home:
                username, password = cluster.add_home(home_id)
                print(f"home {home_id}: {cluster.broker_url(username, password)}")
            print("MQTT listeners:", " ".join(cluster.mqtt_urls), flush=True)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    except BrokerError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
