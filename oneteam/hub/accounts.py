"""Household members: roles, what each may touch, and the Grant a member acts under.

A member's permissions are the role's defaults, each field replaceable per member. A device is
permitted when it is not refused by name and is either allowed by name or matches both the room
list and the type list. Only what the member may use is put in their `Grant`, so every door
(REST, WebSocket, voice, conversation, MCP, partner links) enforces it in `Hub.dispatch`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from oneteam.model import Device, Door, Grant
from oneteam.model.errors import NotFound, OneteamError


class Role(StrEnum):
    """What a member is in the household."""

    OWNER = "owner"
    ADULT = "adult"
    CHILD = "child"
    GUEST = "guest"

    @property
    def manages(self) -> bool:
        """Whether this role adds, changes and removes members (and sees everyone's tokens)."""
        return self in (Role.OWNER, Role.ADULT)


NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
"""Member names: short, lower-case ASCII, so they read the same in `member:<name>` and in URLs."""
MIN_PASSWORD = 8
MAX_PASSWORD = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class Permissions:
    """What a member may use; `None` in `rooms` or `types` means no limit of that kind."""

    rooms: frozenset[str] | None = None
    types: frozenset[str] | None = None
    allow: frozenset[str] = frozenset()
    """Devices allowed by id whatever their room or type."""
    deny: frozenset[str] = frozenset()
    """Devices refused by id, whatever else says."""

    @property
    def unlimited(self) -> bool:
        return self.rooms is None and self.types is None and not self.deny

    def permits(self, device: Device) -> bool:
        """Whether a device may be used under these permissions."""
        if device.id in self.deny:
            return False
        if device.id in self.allow:
            return True
        in_room = self.rooms is None or (device.room is not None and device.room in self.rooms)
        return in_room and (self.types is None or str(device.type) in self.types)

    def as_dict(self) -> dict[str, list[str] | None]:
        return {
            "rooms": None if self.rooms is None else sorted(self.rooms),
            "types": None if self.types is None else sorted(self.types),
            "allow": sorted(self.allow),
            "deny": sorted(self.deny),
        }


ROLE_DEFAULTS: Mapping[Role, Permissions] = {
    Role.OWNER: Permissions(),
    Role.ADULT: Permissions(),
    # Lights and the TV, nothing that heats, spins or runs unattended (oven, washer, dryer, robot).
    Role.CHILD: Permissions(types=frozenset({"light", "tv"})),
    # A visitor's comforts; appliances that run a programme stay with the household.
    Role.GUEST: Permissions(types=frozenset({"light", "tv", "air_conditioner", "air_purifier"})),
}
GUEST_DEFAULT_S = 86400.0
"""A guest added without an expiry may stay one day."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A person of the household, as stored (never the password, only its argon2 hash)."""

    name: str
    role: Role
    display: str = ""
    password_hash: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Per-member replacements of the role's defaults: any of rooms, types, allow, deny."""
    expires_at: float | None = None
    created_at: float = 0.0

    @property
    def permissions(self) -> Permissions:
        """The role's defaults with this member's replacements."""
        base = ROLE_DEFAULTS[self.role]
        if self.role is Role.OWNER:
            return base  # the owner cannot be locked out of their own home
        return permissions_with(base, self.overrides)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def grant(self, door: Door, devices: Iterable[Device]) -> Grant:
        """The Grant this member acts under through `door`: every device when unlimited, else
        exactly the devices the permissions cover (computed from the hub's devices now)."""
        rules = self.permissions
        allowed = None if rules.unlimited else _ids(rules, devices)
        return Grant(principal=f"member:{self.name}", door=door, devices=allowed)

    def public(self) -> dict[str, Any]:
        """What the API shows of a member."""
        return {
            "name": self.name,
            "display": self.display or self.name,
            "role": str(self.role),
            "permissions": self.permissions.as_dict(),
            "overrides": dict(self.overrides),
            "expires_at": self.expires_at,
            "created_at": self.created_at,
            "has_password": self.password_hash is not None,
        }


def _ids(rules: Permissions, devices: Iterable[Device]) -> frozenset[str]:
    return frozenset(d.id for d in devices if rules.permits(d))


PERMISSION_FIELDS = ("rooms", "types", "allow", "deny")


def permissions_with(base: Permissions, overrides: Mapping[str, Any]) -> Permissions:
    """`base` with the given fields replaced (a list, or None for rooms/types = no limit)."""
    changes: dict[str, Any] = {}
    for key in PERMISSION_FIELDS:
        if key not in overrides:
            continue
        value = overrides[key]
        if value is None and key in ("rooms", "types"):
            changes[key] = None
        else:
            changes[key] = frozenset(str(v) for v in value or ())
    return replace(base, **changes)


class AccountError(OneteamError):
    """A household request that cannot be done; `key` names the message in household.yaml."""

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message, **params)
        self.key = key


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise AccountError("error.member.bad_name", f"bad member name {name!r}", name=name[:40])
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            "error.member.bad_role",
            f"unknown role {role!r}",
            role=role[:40],
            roles="owner, adult, child, guest",
        ) from None


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Per-member permissions from a caller: known fields, lists of short strings."""
    clean: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in PERMISSION_FIELDS:
            raise AccountError("error.member.bad_permission", f"unknown permission {key!r}", field=key[:40])
        if value is None and key in ("rooms", "types"):
            clean[key] = None
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 128 for v in value):
            raise AccountError("error.member.bad_permission", f"{key} must be a list of ids", field=key)
        if len(value) > 1000:
            raise AccountError("error.member.bad_permission", f"{key} is too long", field=key)
        clean[key] = sorted(set(value))
    return clean


_HASHER = PasswordHasher()
"""argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes)."""


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            "error.member.bad_password", "password length", low=MIN_PASSWORD, high=MAX_PASSWORD
        )
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the member's; False for a member without a password."""
    if password_hash is None or len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


DUMMY_HASH = _HASHER.hash("not a password of anyone")
"""Checked against for unknown names, so a wrong name costs as long as a wrong password."""


class MemberNotFound(NotFound):
    key = "error.member.not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"no member {name!r}", name=name[:40])


class TokenNotFound(NotFound):
    key = "error.token.not_found"

    def __init__(self, token_id: int) -> None:
        super().__init__(f"no token {token_id}", id=token_id)


class NotAllowed(AccountError):
    """The caller's role may not do this (HTTP 403)."""

    def __init__(self, what: str) -> None:
        super().__init__("error.member.not_allowed", f"not allowed: {what}", what=what)


class SignInFailed(AccountError):
    """Wrong name or password, or a used or expired link (HTTP 401); never says which."""

    def __init__(self, key: str = "error.session.failed") -> None:
        super().__init__(key, "sign-in failed")


class MemberExists(AccountError):
    """HTTP 409."""

    def __init__(self, name: str) -> None:
        super().__init__("error.member.exists", f"member {name!r} exists", name=name)


MAX_TOKEN_S = 366 * 86400.0
"""The furthest a member's or token's expiry may be set (a year and a day)."""


def check_expiry(expires_at: float | None, now: float) -> None:
    if expires_at is not None and not now < expires_at < now + MAX_TOKEN_S:
        raise AccountError("error.member.bad_expiry", "expiry out of range", days=int(MAX_TOKEN_S // 86400))


def check_display(display: str) -> str:
    if len(display) > 64:
        raise AccountError("error.member.bad_display", "display name too long", high=64)
    return display.strip()
