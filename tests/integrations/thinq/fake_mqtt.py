"""A local Mosquitto standing in for LG's AWS IoT broker, for the SDK's push client.

The SDK's client connects with mutual TLS to the host LG's `route` call names, on port 443
(awscrt's default where ALPN is available), so the broker listens on localhost:443 with a server
certificate from the test CA and requires a client certificate from the same CA (the fake cloud
signs the SDK's CSR with it). A second, plain listener on a free port lets the fake cloud publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from pathlib import Path

from tests.integrations.thinq.fake_server import TEST_CA

PUSH_PORT = 443


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` (and we may bind it)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def why_no_broker() -> str | None:
    """Why push cannot be tested here, or None when it can."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        return "mosquitto is not installed (apt-get install mosquitto)"
    if not port_is_free(PUSH_PORT):
        return f"port {PUSH_PORT} is taken or may not be bound here (the SDK's MQTT client uses it)"
    return None


class MosquittoBroker:
    """A Mosquitto process with the TLS listener the SDK needs and a plain one for publishing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.plain_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> MosquittoBroker:
        self.folder.mkdir(parents=True, exist_ok=True)
        TEST_CA.cert_pem.write_to_path(str(self.folder / "ca.pem"))
        server = TEST_CA.issue_cert("localhost", "127.0.0.1")
        server.private_key_pem.write_to_path(str(self.folder / "server.key"))
        server.cert_chain_pems[0].write_to_path(str(self.folder / "server.pem"))
        config = self.folder / "mosquitto.conf"
        config.write_text(
            "\n".join(
                [
                    "per_listener_settings true",
                    f"listener {PUSH_PORT} localhost",
                    "allow_anonymous true",
                    f"cafile {self.folder / 'ca.pem'}",
                    f"certfile {self.folder / 'server.pem'}",
                    f"keyfile {self.folder / 'server.key'}",
                    "require_certificate true",
                    f"listener {self.plain_port} 127.0.0.1",
                    "allow_anonymous true",
                    "user root",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for below
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            if not port_is_free(self.plain_port) and not port_is_free(PUSH_PORT):
                return self
            await asyncio.sleep(0.02)
        await self.__aexit__()
        raise RuntimeError("mosquitto did not start")

    async def __aexit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self._process.wait, 5)
            self._process = None
