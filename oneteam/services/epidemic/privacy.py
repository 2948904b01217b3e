"""Privacy by design: subscriber numbers become keyed hashes at the door and are never stored.

The key of a record is HMAC-SHA256(operator key, normalized number), cut to its first 8 bytes and
read as a signed big-endian integer, so every engine joins and groups on a plain INT64. Cutting
to 64 bits keeps the chance that two of 30 million subscribers share a key near 2.4e-5
(n²/2⁶⁵); without the operator key nobody can test a guessed number against a key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from oneteam.services.epidemic.errors import InvalidPhoneNumber, OperatorKeyError

_LOGGER = logging.getLogger(__name__)

KEY_ENV = "ONETEAM_EPIDEMIC_KEY"
"""Environment variable holding the operator key (hex, at least 32 hex digits)."""
KEY_FILE_NAME = "epidemic.key"
MIN_KEY_BYTES = 16
_BLOCK = 64  # SHA-256 block size: the HMAC pads are one block long.
_SEPARATORS = re.compile(r"[\s().-]")
_KOREAN_MOBILE = re.compile(r"^01[016789][0-9]{7,8}$")


def normalize_msisdn(number: str) -> str:
    """A Korean mobile number in one spelling (`010-1234-5678`, `+82 10 1234 5678` → `01012345678`)."""
    digits = _SEPARATORS.sub("", number.strip())
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:].lstrip("0")
    if not _KOREAN_MOBILE.match(digits):
        raise InvalidPhoneNumber
    return digits


class SubscriberHasher:
    """Keyed hash of subscriber numbers (HMAC-SHA256 with the operator key)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise OperatorKeyError(f"must be at least {MIN_KEY_BYTES} bytes")
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        # The padded key blocks are hashed once; each number then costs two block compressions.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def digest(self, normalized: str) -> bytes:
        """The full HMAC-SHA256 of an already normalized number."""
        inner = self._inner.copy()
        inner.update(normalized.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def key_of_normalized(self, normalized: str) -> int:
        """The subscriber key of an already normalized number."""
        return int.from_bytes(self.digest(normalized)[:8], "big", signed=True)

    def key_of(self, number: str) -> int:
        """The subscriber key of a number as a person or a switch wrote it."""
        return self.key_of_normalized(normalize_msisdn(number))

    def keys_of(self, numbers: Iterable[str]) -> list[int]:
        """Keys of many normalized numbers (the ingest and generator path)."""
        inner_base, outer_base = self._inner, self._outer
        keys: list[int] = []
        for number in numbers:
            inner = inner_base.copy()
            inner.update(number.encode("ascii"))
            outer = outer_base.copy()
            outer.update(inner.digest())
            keys.append(int.from_bytes(outer.digest()[:8], "big", signed=True))
        return keys


def load_operator_key(key_file: Path | None = None, data_dir: Path | None = None) -> bytes:
    """The operator key: `key_file`, else $ONETEAM_EPIDEMIC_KEY, else `<data_dir>/epidemic.key`
    (created with a fresh random key, readable by the owner only, when absent)."""
    if key_file is not None:
        return _read_key_file(key_file)
    if KEY_ENV in os.environ:
        return _parse_hex(os.environ[KEY_ENV], KEY_ENV)
    if data_dir is None:
        raise OperatorKeyError(f"give --key-file, set {KEY_ENV}, or give --data-dir")
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return _read_key_file(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: two processes starting at once must not overwrite each other's fresh key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    _LOGGER.info("created a new operator key at %s", path)
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise OperatorKeyError(f"cannot read {path}: {exc}") from exc
    return _parse_hex(text, str(path))


def _parse_hex(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise OperatorKeyError(f"{where} must hold the key as hex digits") from exc
    if len(key) < MIN_KEY_BYTES:
        raise OperatorKeyError(f"{where} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are needed")
    return key
