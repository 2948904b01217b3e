"""Who may use the MQTT broker and which topics they may touch: one rule set for both brokers.

Passwords are kept as salted PBKDF2-SHA512 hashes in Mosquitto's own `$7$` format, so the
embedded broker and a Mosquitto `password_file` check the same accounts. A *device* account may
announce devices, report state and take commands anywhere except the hub's own topics (`oneteam/…`
and the discovery configs the hub publishes for its devices): a device must not be able to drive
the hub's appliances, which have their own permissions. The hub's account (also the one for a
controller such as Home Assistant) may use every topic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from oneteam.integrations.mqtt.const import DEFAULT_BASE_TOPIC, DEFAULT_DISCOVERY_PREFIX, HUB_NODE_ID

HASH_ITERATIONS = 101
"""mosquitto_passwd's default; the passwords are random and long, so a slow hash adds nothing."""
_SALT_BYTES = 12

HUB_ONLY_FILTERS: tuple[str, ...] = (
    f"{DEFAULT_BASE_TOPIC}/#",
    f"{DEFAULT_DISCOVERY_PREFIX}/+/{HUB_NODE_ID}/#",
)
"""Topics device accounts may neither publish nor read: the hub's devices and their commands."""


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """A Mosquitto `$7$` hash (PBKDF2-HMAC-SHA512) of `password`."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(stored: str, password: bytes) -> bool:
    """Whether `password` matches a `$7$` hash; anything else (malformed, other schemes) does not."""
    parts = stored.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    iterations = int(parts[2])
    if not 1 <= iterations <= 1_000_000:
        return False
    try:
        salt, expected = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password, salt, iterations)
    return hmac.compare_digest(digest, expected)


def _filters_overlap(a: str, b: str) -> bool:
    """Whether some topic matches both filters (a concrete topic is a filter without wildcards)."""
    la, lb = a.split("/"), b.split("/")
    for index in range(max(len(la), len(lb))):
        x = la[index] if index < len(la) else None
        y = lb[index] if index < len(lb) else None
        if x == "#" or y == "#":
            return True
        if x is None or y is None:
            return False
        if "+" not in (x, y) and x != y:
            return False
    return True


def is_hub_only(topic: str) -> bool:
    """Whether a concrete topic belongs to the hub's own devices."""
    return any(_filters_overlap(f, topic) for f in HUB_ONLY_FILTERS)


@dataclass(frozen=True)
class Accounts:
    """The broker's accounts: username → `$7$` hash, and which of them are device accounts."""

    hashes: Mapping[str, str]
    devices: frozenset[str] = field(default_factory=frozenset)
    """Usernames limited to device topics (see the module's docstring)."""

    @classmethod
    def of(cls, passwords: Mapping[str, str], *, devices: frozenset[str] = frozenset()) -> Accounts:
        """Accounts from plain passwords (hashed here; the plain ones are not kept)."""
        return cls({user: hash_password(password) for user, password in passwords.items()}, devices)

    def verify(self, username: str, password: bytes) -> bool:
        """Whether this username exists and the password is its own."""
        stored = self.hashes.get(username)
        return stored is not None and check_password(stored, password)

    def is_device(self, username: str) -> bool:
        """Whether this account is limited to device topics."""
        return username in self.devices

    def password_file(self) -> str:
        """The accounts as a Mosquitto `password_file`."""
        return "".join(f"{user}:{stored}\n" for user, stored in sorted(self.hashes.items()))

    def acl_file(self) -> str:
        """The same topic rules as a Mosquitto `acl_file` (a `deny` line wins over `readwrite #`)."""
        lines = ["# Written by oneteam: device accounts cannot touch the hub's own devices."]
        for user in sorted(self.hashes):
            lines.append(f"\nuser {user}")
            if user in self.devices:
                lines += [f"topic deny {f}" for f in HUB_ONLY_FILTERS]
            lines.append("topic readwrite #")
        return "\n".join(lines) + "\n"
