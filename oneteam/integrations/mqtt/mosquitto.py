"""Run a Mosquitto broker with a generated config: for tests, benchmarks and simple setups.

The config is the production one the docs show: `allow_anonymous false`, the hub's accounts in a
`password_file` and its topic rules in an `acl_file` (both written by oneteam, see credentials.py).
"""

from __future__ import annotations

import getpass
import logging
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from oneteam.integrations.mqtt.credentials import Login, MqttCredentials
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings

_LOGGER = logging.getLogger(__name__)


def find_mosquitto() -> Path | None:
    """The mosquitto binary (Debian installs it in /usr/sbin, often not on PATH), or None."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(kw_only=True)
class MosquittoBroker:
    """A Mosquitto process on a loopback port, configured from these fields."""

    directory: Path
    """Holds the generated config, the password and ACL files and the log."""
    port: int = field(default_factory=free_port)
    credentials: MqttCredentials = field(default_factory=MqttCredentials.generate)
    """The hub's and the devices' accounts (fresh random ones unless given)."""
    username: str | None = None
    password: str | None = None
    """One more account with every right, added with `mosquitto_passwd` as the docs show."""
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    """With cert and key set, the listener speaks TLS only."""
    max_queued_messages: int = 10_000
    """Per-client queue bound: a flood to a slow client is dropped, not buffered without limit."""
    config: str | None = None
    """A whole config to run instead of the generated one (the docs' own, in a test)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> BrokerSettings:
        """How the hub (or the extra user, when given) reaches this broker."""
        if self.username is not None:
            return self.settings_for(Login(self.username, self.password or ""))
        return self.settings_for(self.credentials.hub)

    @property
    def device_settings(self) -> BrokerSettings:
        """How a device reaches this broker."""
        return self.settings_for(self.credentials.devices)

    def settings_for(self, login: Login | None) -> BrokerSettings:
        """How a client with this login (None: anonymous) reaches this broker."""
        return BrokerSettings(
            host="127.0.0.1",
            port=self.port,
            username=login.username if login else None,
            password=login.password if login else None,
            use_tls=self.cert_file is not None,
            ca_file=self.ca_file,
        )

    @property
    def log_path(self) -> Path:
        """Mosquitto's own log."""
        return self.directory / "mosquitto.log"

    def write_config(self) -> Path:
        """Write mosquitto.conf (and the password and ACL files) and return the config's path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "mosquitto.conf"
        if self.config is not None:
            config.write_text(self.config, encoding="utf-8")
            return config
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",
            "persistence false",
            f"max_queued_messages {self.max_queued_messages}",
            "max_inflight_messages 1000",
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        accounts = self.credentials.accounts()
        password_file, acl_file = self.directory / "mqtt.passwd", self.directory / "mqtt.acl"
        password_file.write_text(accounts.password_file(), encoding="utf-8")
        acl = accounts.acl_file()
        if self.username is not None:
            tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
            subprocess.run(
                [tool, "-b", str(password_file), self.username, self.password or ""],
                check=True,
                capture_output=True,
            )
            acl += f"\nuser {self.username}\ntopic readwrite #\n"
        acl_file.write_text(acl, encoding="utf-8")
        password_file.chmod(0o600)
        acl_file.chmod(0o600)
        lines += ["allow_anonymous false", f"password_file {password_file}", f"acl_file {acl_file}"]
        if self.cert_file is not None and self.key_file is not None:
            lines += [f"certfile {self.cert_file}", f"keyfile {self.key_file}"]
            if self.ca_file is not None:
                lines.append(f"cafile {self.ca_file}")
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def start(self, timeout_s: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections."""
        binary = find_mosquitto()
        if binary is None:
            raise BrokerError("mosquitto is not installed (apt-get install -y mosquitto)")
        config = self.write_config()
        self.process = subprocess.Popen(
            [str(binary), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise BrokerError(f"mosquitto exited with {self.process.returncode}: {error.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.kill()
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout_s:g} s")

    def kill(self) -> None:
        """End the broker abruptly (SIGKILL): no goodbye to clients, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        """End the broker politely, then firmly."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
