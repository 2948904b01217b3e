"""The hub's MQTT accounts, generated on first start and kept in the data folder.

- `mqtt.credentials` (mode 0600): the plain passwords, for the hub's own client, `oneteam simulate`
  and the person setting up devices. The embedded broker keeps only their hashes.
- `mqtt.passwd` and `mqtt.acl` (mode 0600): the same accounts and topic rules for Mosquitto
  (`password_file`, `acl_file`), so a household can move to Mosquitto without new passwords.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from oneteam.integrations.mqtt.auth import Accounts, check_password
from oneteam.integrations.mqtt.settings import BrokerError

_LOGGER = logging.getLogger(__name__)

HUB_USER = "oneteam"
"""The hub's own account; also the one to give a controller (Home Assistant) that drives the hub's devices."""
DEVICE_USER = "devices"
"""The account devices and `oneteam simulate` sign in with."""
CREDENTIALS_FILE = "mqtt.credentials"
PASSWORD_FILE = "mqtt.passwd"
ACL_FILE = "mqtt.acl"

_HEADER = """\
# MQTT accounts of this hub's broker. Keep this file private (mode 0600).
# devices: what devices and `oneteam simulate` sign in with.
# oneteam: the hub itself, and controllers such as Home Assistant that drive the hub's devices.
"""


@dataclass(frozen=True, slots=True)
class Login:
    """A username and its plain password."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class MqttCredentials:
    """The hub's two accounts."""

    hub: Login
    devices: Login

    @classmethod
    def generate(cls) -> MqttCredentials:
        """Fresh random passwords (144 bits each)."""
        return cls(Login(HUB_USER, secrets.token_urlsafe(18)), Login(DEVICE_USER, secrets.token_urlsafe(18)))

    def accounts(self) -> Accounts:
        """What the broker checks: hashes only."""
        passwords = {self.hub.username: self.hub.password, self.devices.username: self.devices.password}
        return Accounts.of(passwords, devices=frozenset({self.devices.username}))


def credentials_path(data_dir: Path) -> Path:
    """Where the plain passwords live."""
    return data_dir / CREDENTIALS_FILE


def read_credentials(data_dir: Path) -> MqttCredentials | None:
    """The stored accounts, or None when the hub has not made them yet; BrokerError if unreadable."""
    path = credentials_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerError(f"cannot read {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BrokerError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BrokerError(f"{path} must map {HUB_USER} and {DEVICE_USER} to passwords")
    found = {user: data.get(user) for user in (HUB_USER, DEVICE_USER)}
    missing = [user for user, password in found.items() if not isinstance(password, str) or not password]
    if missing:
        raise BrokerError(f"{path} has no password for {', '.join(missing)}")
    return MqttCredentials(Login(HUB_USER, str(found[HUB_USER])), Login(DEVICE_USER, str(found[DEVICE_USER])))


def load_or_create_credentials(data_dir: Path) -> tuple[MqttCredentials, bool]:
    """The stored accounts, made on first start; and whether they were made just now.

    Also (re)writes the Mosquitto files when they are missing or no longer match.
    """
    created = False
    stored = read_credentials(data_dir)
    if stored is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        fresh = MqttCredentials.generate()
        text = _HEADER + f'{HUB_USER}: "{fresh.hub.password}"\n{DEVICE_USER}: "{fresh.devices.password}"\n'
        if _write_private(credentials_path(data_dir), text, exclusive=True):
            created = True
            _LOGGER.info("created MQTT accounts in %s", credentials_path(data_dir))
        # Another process may have won the race: what is on disk is the truth.
        stored = read_credentials(data_dir)
        assert stored is not None
    _keep_private(credentials_path(data_dir))
    _write_mosquitto_files(data_dir, stored)
    return stored, created


def _write_mosquitto_files(data_dir: Path, credentials: MqttCredentials) -> None:
    passwd = data_dir / PASSWORD_FILE
    if not _password_file_matches(passwd, credentials):
        accounts = credentials.accounts()
        _write_private(passwd, accounts.password_file())
        _write_private(data_dir / ACL_FILE, accounts.acl_file())
    elif not (data_dir / ACL_FILE).exists():
        _write_private(data_dir / ACL_FILE, credentials.accounts().acl_file())


def _password_file_matches(path: Path, credentials: MqttCredentials) -> bool:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    hashes = dict(line.split(":", 1) for line in lines if ":" in line)
    return (
        all(
            check_password(hashes.get(login.username, ""), login.password.encode())
            for login in (credentials.hub, credentials.devices)
        )
        and len(hashes) == 2
    )


def _keep_private(path: Path) -> None:
    """A copied or restored file may have come back readable by others: make it private again."""
    if path.stat().st_mode & 0o077:
        _LOGGER.warning("%s was readable by others; made it private (0600)", path)
        path.chmod(0o600)


def _write_private(path: Path, text: str, *, exclusive: bool = False) -> bool:
    """Write a file only its owner can read; with `exclusive`, False if it already exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return False
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True
