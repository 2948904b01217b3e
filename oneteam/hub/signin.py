"""Signing in to the household: a member's password or a one-time link becomes a session. A mixin
of `Household` (hub/household.py), which keeps the members, their tokens and the checks' memory."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Protocol

from oneteam.hub.accounts import DUMMY_HASH, Member, SignInFailed, password_matches
from oneteam.hub.accounts_store import LINK, SESSION, AccountStore
from oneteam.hub.tokens import hash_token

SESSION_PREFIX = "os_"
LINK_PREFIX = "ol_"
SESSION_S = 7 * 86400.0
"""A sign-in lasts a week (the page keeps it in a cookie), or until signed out or revoked."""
LINK_S = 600.0
"""A one-time sign-in link works for ten minutes."""


class _Members(Protocol):
    """What signing in needs of the household."""

    store: AccountStore

    async def _all(self) -> dict[str, Member]: ...
    async def member(self, name: str) -> Member: ...
    def forget(self) -> None: ...


class SignIn:
    """Sessions and one-time links over the household's account store."""

    async def sign_in(self: _Members, name: str, password: str) -> tuple[str, float, Member]:
        """A new session for a member's name and password: (session value, expiry, member)."""
        member = (await self._all()).get(name)
        ok = await asyncio.to_thread(
            password_matches, member.password_hash if member else DUMMY_HASH, password
        )
        now = time.time()
        if member is None or not ok or member.expired(now):
            raise SignInFailed()
        return (*await _new_session(self.store, member, now), member)

    async def sign_in_link(self: _Members, name: str, *, ttl_s: float = LINK_S) -> str:
        """A code for a one-time sign-in link (valid `ttl_s`, used up by its first use)."""
        member = await self.member(name)
        code = LINK_PREFIX + secrets.token_urlsafe(24)
        now = time.time()
        await self.store.add_session(member.name, hash_token(code), LINK, now, now + ttl_s)
        return code

    async def redeem_link(self: _Members, code: str) -> tuple[str, float, Member]:
        """A session for a one-time link's code; a second use, or a late one, fails."""
        now = time.time()
        name = await self.store.take_link(hash_token(code), now) if code.startswith(LINK_PREFIX) else None
        member = None if name is None else (await self._all()).get(name)
        if member is None or member.expired(now):
            raise SignInFailed("error.session.link_used")
        return (*await _new_session(self.store, member, now), member)

    async def sign_out(self: _Members, value: str) -> bool:
        removed = await self.store.delete_session(hash_token(value))
        self.forget()
        return removed


async def _new_session(store: AccountStore, member: Member, now: float) -> tuple[str, float]:
    # A guest's session ends with the guest.
    value = SESSION_PREFIX + secrets.token_urlsafe(32)
    expires = now + SESSION_S if member.expires_at is None else min(now + SESSION_S, member.expires_at)
    await store.prune(now)
    await store.add_session(member.name, hash_token(value), SESSION, now, expires)
    return value, expires
