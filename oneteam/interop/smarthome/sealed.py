"""Partners' report-signing keys, sealed: the SQLite file holds them only encrypted (AES-GCM) with a
key kept in `partners.key` beside the database, readable by the owner only (like `epidemic.key`).

A copy of the database alone (a backup, a support bundle) then gives nobody a partner's key.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LOGGER = logging.getLogger(__name__)

KEY_FILE_NAME = "partners.key"
PREFIX = "sealed1:"


class SealedKeyError(RuntimeError):
    """A sealed value cannot be opened: `partners.key` is missing, changed or unreadable."""


class Sealer:
    """Seals and opens short secrets with the key in `key_path` (created 0600 when absent)."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        self._aead = AESGCM(_load_or_create(key_path))

    def seal(self, plain: str, context: str) -> str:
        """`plain` encrypted and bound to `context` (the row it belongs to)."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plain.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str, context: str) -> str:
        """The plain secret of a sealed value."""
        try:
            raw = base64.urlsafe_b64decode(value.removeprefix(PREFIX))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise SealedKeyError(
                f"a partner signing key cannot be opened with {self.key_path}: was the file replaced?"
            ) from exc


def is_sealed(value: str) -> bool:
    """Whether a stored value is sealed (rows from before sealing hold the plain key)."""
    return value.startswith(PREFIX)


def _load_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once must not overwrite each other's fresh key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_bytes(32).hex() + "\n")
            _LOGGER.info("created the partner key file %s", path)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SealedKeyError(f"cannot read {path}: {exc}") from exc
    if len(key) != 32:
        raise SealedKeyError(f"{path} must hold 32 bytes as hex")
    path.chmod(0o600)
    return key
