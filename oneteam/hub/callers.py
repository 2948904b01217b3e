"""Who a bearer value is, once the household has looked it up: `Caller` (a member by session or
their token, or a household token) with its role, speaker and `Grant` through a door; the partner
account id of a member's link (`member_agent_id`, `agent_member`); and a token as listed. The
lookups themselves, with their memory, are in `household.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from oneteam.hub.accounts import Member, NotAllowed, Role
from oneteam.hub.accounts_store import Credential, TokenRow
from oneteam.hub.tokens import TOKEN_DOORS
from oneteam.model import Device, Door, Grant, Home
from oneteam.model.device import Speaker


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Who a bearer value is: a member (by session or their token) or a household token."""

    credential: Credential
    member: Member | None
    """None for a household token (made before members, or by `oneteam token create` without a
    member): it belongs to the owner and keeps its `token:<name>` principal in the log."""

    @property
    def role(self) -> Role:
        return Role.OWNER if self.member is None else self.member.role

    @property
    def name(self) -> str | None:
        return None if self.member is None else self.member.name

    def speaker(self, home: Home) -> Speaker | None:
        """The home file's speaker this caller is: its member's voice token named for it."""
        found = home.speakers.get(self.credential.name) if self.credential.kind == "token" else None
        if found is None or self.credential.door != Door.VOICE.value or found.member != self.name:
            return None
        return found

    def grant(self, door: Door, devices: Iterable[Device]) -> Grant:
        """The Grant for this caller through `door` (a token made for mcp/voice shows that door).
        A token's Grant names the token (`token_id`), so what it books is checked again later."""
        marked = Door(self.credential.door) if self.credential.door in TOKEN_DOORS else door
        if self.member is None:
            grant = Grant(principal=f"token:{self.credential.name}", door=marked)
        else:
            grant = self.member.grant(marked, devices)
        return replace(grant, token_id=self.credential.id) if self.credential.kind == "token" else grant


MEMBER_AGENT = "member:"


def member_agent_id(home_id: str, member: str) -> str:
    """The partner account id (Google's agentUserId) of a member's link: one per member, so a
    partner link acts as the member who made it."""
    return f"{MEMBER_AGENT}{member}:{home_id}"


def agent_member(agent_user_id: str) -> str | None:
    """The member a partner link was made by, or None for a household link (a household token)."""
    if not agent_user_id.startswith(MEMBER_AGENT):
        return None
    return agent_user_id[len(MEMBER_AGENT) :].split(":", 1)[0] or None


def expired(at: float | None, now: float) -> bool:
    return at is not None and now >= at


def token_json(row: TokenRow, member: str | None) -> dict[str, Any]:
    """A token as `tokens` lists it (never its value or hash)."""
    return {
        "id": row.id,
        "name": row.name,
        "member": member,
        "door": row.door,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "household": row.member is None,
    }


def may_manage(by: Caller | None, target: Role) -> None:
    """Refuse (NotAllowed) unless `by` may manage a member of role `target`: the owner and adults
    manage members, only an owner manages an owner; None (the hub's own CLI) may do anything."""
    if by is None:
        return
    if not by.role.manages:
        raise NotAllowed("members")
    if target is Role.OWNER and by.role is not Role.OWNER:
        raise NotAllowed("owner")


def current_grant(
    booked: Grant, row: TokenRow | None, members: Mapping[str, Member], devices: list[Device], now: float
) -> Grant | None:
    """`booked` as it stands now (see `Household.grant_now`); `row`: its token's row, if any."""
    if booked.token_id is not None:
        if row is None or expired(row.expires_at, now):
            return None
        member = None if row.member is None else members.get(row.member)
        if row.member is not None and (member is None or member.expired(now)):
            return None
        credential = Credential(
            kind="token",
            id=row.id,
            name=row.name,
            door=row.door,
            member=row.member,
            expires_at=row.expires_at,
        )
        current = Caller(credential=credential, member=member).grant(booked.door, devices)
    elif booked.principal.startswith("member:"):
        found = members.get(booked.principal.removeprefix("member:"))
        if found is None or found.expired(now):
            return None
        current = found.grant(booked.door, devices)
    else:
        return booked
    return current.narrowed(commands=booked.commands, devices=booked.devices, rooms=booked.rooms)
