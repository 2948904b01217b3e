"""The household: members, sign-in (password → session, one-time links), members' API tokens, and
the one question every door asks — who is this bearer value, and what may they touch?

A confirmed credential is remembered only while storage's `token_stamp` is unchanged (as the
`TokenKeeper` does), so a member removed or a token revoked by the CLI's process is seen by the
next check; changes made here empty the memory at once. Expiry is checked on every use.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from oneteam.hub.accounts import (
    GUEST_DEFAULT_S,
    AccountError,
    Member,
    MemberExists,
    MemberNotFound,
    Role,
    check_display,
    check_expiry,
    check_name,
    check_overrides,
    check_role,
    hash_password,
)
from oneteam.hub.accounts import NotAllowed as NotAllowed  # noqa: PLC0414 (re-exported for api/devices.py)
from oneteam.hub.accounts_store import AccountStore, KnownCredentials
from oneteam.hub.callers import Caller, current_grant, expired, may_manage, token_json
from oneteam.hub.signin import LINK_S as LINK_S  # noqa: PLC0414 (re-exported for the CLI)
from oneteam.hub.signin import SESSION_PREFIX as SESSION_PREFIX  # noqa: PLC0414 (re-exported for api/household.py)
from oneteam.hub.signin import SignIn
from oneteam.hub.storage import Storage
from oneteam.hub.tokens import TOKEN_DOORS, TOKEN_PREFIX, hash_token
from oneteam.model import Device, Door, Grant

OWNER = "owner"
"""The name `oneteam serve` gives the owner it creates on a first start."""
UNKNOWN_KEPT = 10_000
"""Bad bearer hashes remembered at most (forgotten all at once past it: many different bad values
are as costly with or without this memory)."""


class Household(SignIn):
    """Members, sessions and tokens over an `AccountStore`, with the checks' memory; signing in
    (sessions, one-time links) comes from SignIn (hub/signin.py)."""

    def __init__(
        self,
        store: AccountStore,
        storage: Storage,
        devices: Callable[[], list[Device]],
        devices_version: Callable[[], int] = lambda: 0,
    ) -> None:
        self.store = store
        self.storage = storage
        self._devices = devices
        self._devices_version = devices_version
        self._known: dict[str, Caller] = {}
        self._grants: dict[tuple[str, int, Door], tuple[int, Grant]] = {}
        """Grants by (credential kind, id, door), with the device-registry version they were made for."""
        self._member_devices: dict[str, tuple[int, frozenset[str] | None]] = {}
        """`member_devices` by member, with the device-registry version (asked per partner push)."""
        self._members: dict[str, Member] | None = None
        self._unknown: set[str] = set()
        """Hashes the store said are nobody's, under the same stamp (a client retrying a bad token
        costs one read, not one per request)."""
        self._stamp: int | None = None
        self._changed = asyncio.Event()
        """Set (and replaced) on every revocation or removal here, to wake `wait_revoked`."""

    async def open(self) -> None:
        await self.store.open()
        await self.store.prune(time.time())
        self._remember(self.store.opening_credentials())

    def _remember(self, known: KnownCredentials | None) -> None:
        """Start with every credential read before opening (a home just taken over), remembered
        under the stamp from before that read: a change since then empties it at the first check."""
        if known is None:
            return
        members = {m.name: m for m in known.members}
        self._known = {
            token_hash: Caller(
                credential=credential,
                member=None if credential.member is None else members[credential.member],
            )
            for token_hash, credential in known.credentials.items()
            if credential.member is None or credential.member in members  # else: read, refused as ever
        }
        self._members = members
        self._stamp = known.stamp

    async def close(self) -> None:
        await self.store.close()

    def forget(self) -> None:
        """Drop what is remembered and wake `wait_revoked` (after a change made elsewhere in the hub)."""
        self._known.clear()
        self._unknown.clear()
        self._grants.clear()
        self._member_devices.clear()
        self._members = None
        self._changed.set()
        self._changed = asyncio.Event()

    def _fresh(self) -> bool:
        """Whether what is remembered still holds (no other process wrote since)."""
        stamp = self.storage.token_stamp()
        if stamp is None or stamp != self._stamp:
            self._known.clear()
            self._unknown.clear()
            self._grants.clear()
            self._member_devices.clear()
            self._members = None
            self._stamp = stamp
            return False
        return True

    # -- members ----------------------------------------------------------------------------

    async def _all(self) -> dict[str, Member]:
        self._fresh()
        if self._members is None:
            self._members = {m.name: m for m in await self.store.members()}
        return self._members

    async def members(self) -> list[Member]:
        return list((await self._all()).values())

    async def member(self, name: str) -> Member:
        found = (await self._all()).get(name)
        if found is None:
            raise MemberNotFound(name)
        return found

    async def owner(self) -> Member | None:
        return next((m for m in (await self._all()).values() if m.role is Role.OWNER), None)

    async def ensure_owner(self, name: str = OWNER) -> Member:
        """The owner, created (without a password: they sign in by a link) on a first start."""
        owner = await self.owner()
        if owner is not None:
            return owner
        owner = Member(name=check_name(name), role=Role.OWNER, created_at=time.time())
        await self.store.put_member(owner)
        self.forget()
        return owner

    async def add_member(
        self,
        name: str,
        role: str,
        *,
        by: Caller | None,
        password: str | None = None,
        display: str = "",
        overrides: Mapping[str, Any] | None = None,
        expires_at: float | None = None,
    ) -> Member:
        """A new member; `by` None is the machine's own operator (the CLI)."""
        kind = check_role(role)
        check_name(name)
        may_manage(by, kind)
        if name in await self._all():
            raise MemberExists(name)
        now = time.time()
        if kind is Role.GUEST and expires_at is None:
            expires_at = now + GUEST_DEFAULT_S
        check_expiry(expires_at, now)
        member = Member(
            name=name,
            role=kind,
            display=check_display(display),
            password_hash=None if password is None else await asyncio.to_thread(hash_password, password),
            overrides=check_overrides(overrides or {}),
            expires_at=expires_at,
            created_at=now,
        )
        await self.store.put_member(member)
        self.forget()
        return member

    async def update_member(
        self,
        name: str,
        *,
        by: Caller | None,
        role: str | None = None,
        password: str | None = None,
        display: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        expires_at: float | None = None,
        clear_expiry: bool = False,
    ) -> Member:
        """Change a member. Anyone may change their own password and display name; roles,
        permissions and expiry are for the owner and adults (an adult cannot touch the owner)."""
        member = await self.member(name)
        own = by is not None and by.member is not None and by.member.name == name
        managing = role is not None or overrides is not None or expires_at is not None or clear_expiry
        if managing or not own:
            may_manage(by, member.role)
        kind = member.role if role is None else check_role(role)
        if kind is not member.role:
            may_manage(by, kind)
            if (
                member.role is Role.OWNER
                and len([m for m in await self.members() if m.role is Role.OWNER]) < 2
            ):
                raise AccountError("error.member.last_owner", "the last owner stays owner")
        changes: dict[str, Any] = {"role": kind}
        if password is not None:
            changes["password_hash"] = await asyncio.to_thread(hash_password, password)
        if display is not None:
            changes["display"] = check_display(display)
        if overrides is not None:
            changes["overrides"] = {**member.overrides, **check_overrides(overrides)}
        if expires_at is not None:
            check_expiry(expires_at, time.time())
            changes["expires_at"] = expires_at
        elif clear_expiry:
            changes["expires_at"] = None
        if kind is Role.GUEST and changes.get("expires_at", member.expires_at) is None:
            changes["expires_at"] = time.time() + GUEST_DEFAULT_S  # a guest always leaves
        updated = replace(member, **changes)
        await self.store.put_member(updated)
        if password is not None and not own:
            await self.store.delete_sessions(name)  # a password set for someone ends their sign-ins
        self.forget()
        return updated

    async def remove_member(self, name: str, *, by: Caller | None) -> None:
        member = await self.member(name)
        may_manage(by, member.role)
        if member.role is Role.OWNER and len([m for m in await self.members() if m.role is Role.OWNER]) < 2:
            raise AccountError("error.member.last_owner", "the last owner stays")
        await self.store.delete_member(name)
        self.forget()

    # -- tokens -----------------------------------------------------------------------------

    async def create_token(
        self,
        member: str,
        name: str,
        *,
        by: Caller | None,
        door: str | None = None,
        expires_at: float | None = None,
    ) -> tuple[int, str]:
        """A member's named API token (shown once; only its hash is kept)."""
        owner = await self.member(member)
        if by is not None and by.name != member:
            may_manage(by, owner.role)
        if not 0 < len(name) <= 64:
            raise AccountError("error.token.bad_name", "token name length")
        if door is not None and door not in TOKEN_DOORS:
            raise AccountError("error.token.bad_door", "bad door", doors=", ".join(TOKEN_DOORS))
        now = time.time()
        check_expiry(expires_at, now)
        if owner.expires_at is not None:  # a guest's token ends with the guest
            expires_at = owner.expires_at if expires_at is None else min(expires_at, owner.expires_at)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = await self.store.add_member_token(
            name, hash_token(token), now, door=door, member=owner.name, expires_at=expires_at
        )
        self.forget()
        return token_id, token

    async def store_token(self, name: str, token_hash: str, *, door: str | None = None) -> int:
        """A household token (no member: the owner's reach, `token:<name>` in the log)."""
        # On this store's own connection, so it is committed (and usable by any process) at once.
        token_id = await self.store.add_token(name, token_hash, time.time(), door=door)
        self.forget()
        return token_id

    async def tokens(self, *, by: Caller | None) -> list[dict[str, Any]]:
        """Tokens as listed: the owner and adults see all, others their own. A household token
        (no member) is shown as the owner's."""
        owner = await self.owner()
        rows = []
        for row in await self.store.tokens():
            member = row.member or (owner.name if owner else None)
            if by is None or by.role.manages or member == by.name:
                rows.append(token_json(row, member))
        return rows

    async def revoke_token(self, token_id: int, *, by: Caller | None) -> bool:
        """Revoke a token: yours, or anyone's for the owner and adults."""
        row = next((t for t in await self.store.tokens() if t.id == token_id), None)
        if row is None:
            return False
        if by is not None and not by.role.manages and row.member != by.name:
            raise NotAllowed("tokens")
        removed = await self.store.revoke_token(token_id)
        self.forget()
        return removed

    # -- the check every door makes -----------------------------------------------------------

    async def caller(self, value: str) -> Caller | None:
        """Who a bearer value (API token or session) is, or None: unknown, revoked, expired, or
        its member removed or expired."""
        token_hash = hash_token(value)
        now = time.time()
        fresh = self._fresh()
        caller = self._known.get(token_hash) if fresh else None
        if caller is None:
            if fresh and token_hash in self._unknown:
                return None
            credential = await self.store.credential(token_hash)
            if credential is None:
                if self._stamp is not None:
                    if len(self._unknown) >= UNKNOWN_KEPT:
                        self._unknown.clear()
                    self._unknown.add(token_hash)
                return None
            member = None
            if credential.member is not None:
                member = (await self._all()).get(credential.member)
                if member is None:
                    return None
            caller = Caller(credential=credential, member=member)
            if self._stamp is not None:
                self._known[token_hash] = caller
        if expired(caller.credential.expires_at, now) or (caller.member and caller.member.expired(now)):
            return None
        return caller

    async def grant(self, value: str, door: Door) -> Grant | None:
        """The Grant of a bearer value through `door`, or None when it is not valid."""
        caller = await self.caller(value)
        return None if caller is None else self.grant_of(caller, door)

    def grant_of(self, caller: Caller, door: Door) -> Grant:
        """`caller`'s Grant through `door`, remembered until the members or the devices change
        (a limited member's device list is otherwise rebuilt from every device on each request)."""
        key = (caller.credential.kind, caller.credential.id, door)
        version = self._devices_version()
        known = self._grants.get(key)
        if known is not None and known[0] == version:
            return known[1]
        grant = caller.grant(door, self._devices())
        if len(self._grants) > 10_000:
            self._grants.clear()
        self._grants[key] = (version, grant)
        return grant

    async def grant_now(self, booked: Grant) -> Grant | None:
        """A booked Grant as it stands now (a schedule falling due): None when its token was
        revoked or expired or its member removed or expired; else the token's or member's Grant
        now (a changed role or permission counts), within the limits it was booked with. Other
        principals (a partner link, a routine, the hub) are returned as booked."""
        row = None
        if booked.token_id is not None:
            row = next((t for t in await self.store.tokens() if t.id == booked.token_id), None)
        return current_grant(booked, row, await self._all(), self._devices(), time.time())

    async def member_devices(self, name: str) -> frozenset[str] | None:
        """The devices a member may use now (None: all); an empty set when the member is gone or
        expired, so whatever acts for them (a partner link) stops with them."""
        member = (await self._all()).get(name)
        if member is None or member.expired(time.time()):
            return frozenset()
        version = self._devices_version()
        known = self._member_devices.get(name)
        if known is not None and known[0] == version:
            return known[1]
        devices = member.grant(Door.PARTNER, self._devices()).devices
        self._member_devices[name] = (version, devices)
        return devices

    async def wait_revoked(self, value: str, *, poll_s: float = 0.5) -> None:
        """Return once `value` no longer works: at once for a change here, within `poll_s` for
        one by another process, or when it expires."""
        while True:
            changed = self._changed
            try:
                async with asyncio.timeout(poll_s):
                    await changed.wait()
            except TimeoutError:
                pass
            if await self.caller(value) is None:
                return
