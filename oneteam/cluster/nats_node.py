"""One nats-server process of the cluster: its ports and folder, starting, watching, ending it.

`NatsNode` knows nothing of homes or configs (oneteam.cluster.nats_config writes those); it runs
the binary on its config file, watches the child in a thread (an exit nobody asked for goes to
`on_death` at once), answers whether its monitor port and its MQTT sign-in are up, and ends the
process with SIGKILL (a crash, for failover tests) or SIGTERM then SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def find_nats_server() -> Path | None:
    """The nats-server binary (Debian installs it in /usr/sbin), or None."""
    found = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class NatsNode:
    """One node of the cluster: its ports, folder and process."""

    index: int
    name: str
    client_port: int
    route_port: int
    mqtt_port: int
    http_port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None
    stopping: bool = False
    """Set before a stop or kill we asked for, so the watcher does not report it as a death."""
    exit_code: int | None = None
    """How the node's last process ended, once it has."""

    @property
    def config_path(self) -> Path:
        return self.directory / "nats.conf"

    @property
    def log_path(self) -> Path:
        return self.directory / "nats.log"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self, binary: Path, on_death: Callable[[NatsNode, int], None]) -> threading.Thread:
        """Run nats-server on this node's config; the returned (started) thread waits for the
        process and calls `on_death(node, exit code)` if it ends without stop()/kill()."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stopping = False
        self.exit_code = None
        process = subprocess.Popen(
            [str(binary), "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.process = process

        def watch() -> None:
            code = process.wait()
            self.exit_code = code
            if not self.stopping:
                on_death(self, code)

        watcher = threading.Thread(target=watch, name=f"nats-watch-{self.name}", daemon=True)
        watcher.start()
        return watcher

    def varz(self, host: str, timeout_s: float = 1.0) -> dict[str, Any] | None:
        """The monitor's /varz, or None while the node does not answer."""
        try:
            with urllib.request.urlopen(f"http://{host}:{self.http_port}/varz", timeout=timeout_s) as r:
                data: dict[str, Any] = json.loads(r.read())
                return data
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def mqtt_signs_in(self, host: str, username: str, password: str, timeout_s: float = 5.0) -> bool:
        """Whether an MQTT client can sign in here now (the node serves MQTT for real)."""
        probe = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"_probe-{self.name}-{os.getpid()}")
        probe.username_pw_set(username, password)
        try:
            probe.connect(host, self.mqtt_port, keepalive=10)
            ready = False
            wait_until = time.monotonic() + timeout_s
            while time.monotonic() < wait_until and not ready:
                probe.loop(timeout=0.1)
                ready = probe.is_connected()
            probe.disconnect()
        except OSError:
            return False
        return ready

    def port_was_taken(self) -> bool:
        """Whether the node's last start ended on a port in use (its log says so)."""
        try:
            return "address already in use" in self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False

    def kill(self) -> None:
        """End the process with SIGKILL: no goodbye to its clients, as a crash would."""
        if self.process is not None and self.alive:
            self.stopping = True
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """End the process politely (SIGTERM), then firmly."""
        if self.process is None:
            return
        self.stopping = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def place_nodes(count: int, directory: Path, base_port: int | None) -> list[NatsNode]:
    """`count` nodes in folders under `directory`: node i on base_port + 10·i + (0 client, 1 route,
    2 MQTT, 3 HTTP monitor), or on free ports picked now."""
    nodes: list[NatsNode] = []
    for index in range(count):
        if base_port is not None:
            client, route, mqtt, http = (base_port + 10 * index + k for k in range(4))
        else:
            client, route, mqtt, http = (free_port() for _ in range(4))
        name = f"oneteam-n{index + 1}"
        nodes.append(NatsNode(index, name, client, route, mqtt, http, directory / name))
    return nodes
