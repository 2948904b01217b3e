"""Bearer tokens: shown once when created, stored only as a SHA-256 hash.

Tokens are 32 random bytes, so an unsalted fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time

from oneteam.hub.storage import Storage, TokenRecord
from oneteam.model import Door, Grant

TOKEN_PREFIX = "ot_"


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenKeeper:
    """Checks bearer tokens against storage, with revocation visible at once.

    A confirmed token is remembered only while storage's `token_stamp` stays the same; the stamp
    changes when another process (the CLI) writes to storage, so a revocation there is seen by the
    very next check, and one through the hub (`revoke`) empties the memory right away. Open
    connections wait on `wait_revoked` to be closed when their token goes.
    """

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._known: dict[str, TokenRecord] = {}
        self._stamp: int | None = None
        self._revoked = asyncio.Event()
        """Set (and replaced) on every revocation through the hub, to wake `wait_revoked`."""

    async def create(self, name: str, *, door: str | None = None) -> str:
        """A new bearer token; only its hash is kept."""
        token = new_token()
        await self._storage.add_token(name, hash_token(token), time.time(), door=door)
        return token

    async def authenticate(self, token: str) -> TokenRecord | None:
        """The stored record of `token`, or None when it is unknown or revoked."""
        token_hash = hash_token(token)
        stamp = self._storage.token_stamp()
        if stamp is None or stamp != self._stamp:
            self._known.clear()
            self._stamp = stamp
        else:
            known = self._known.get(token_hash)
            if known is not None:
                return known
        record = await self._storage.token_by_hash(token_hash)
        if record is not None and stamp is not None:
            self._known[token_hash] = record
        return record

    async def revoke(self, token_id: int) -> bool:
        """Delete a token; it stops working for every door at once."""
        removed = await self._storage.revoke_token(token_id)
        self._known.clear()
        self._revoked.set()
        self._revoked = asyncio.Event()
        return removed

    async def wait_revoked(self, token: str, *, poll_s: float = 0.5) -> None:
        """Return once `token` no longer works: at once for a revocation through the hub, within
        `poll_s` for one by another process (seen through the storage stamp, a microsecond read)."""
        token_hash = hash_token(token)
        stamp = self._storage.token_stamp()
        while True:
            try:
                async with asyncio.timeout(poll_s):
                    await self._revoked.wait()
            except TimeoutError:
                now = self._storage.token_stamp()
                if now is not None and now == stamp:
                    continue
                stamp = now
            if await self._storage.token_by_hash(token_hash) is None:
                return


TOKEN_DOORS = (Door.MCP.value, Door.VOICE.value)
"""Doors a token may be made for: processes that reach the hub over REST on someone's behalf."""


def token_grant(record: TokenRecord, door: Door) -> Grant:
    """The grant of a hub token used through `door` (or through the door the token was made for)."""
    marked = Door(record.door) if record.door in TOKEN_DOORS else door
    return Grant(principal=f"token:{record.name}", door=marked, token_id=record.id)
