"""Where household members, their sign-in sessions and their tokens are kept.

Beside the hub's own tables, in the same database as its `tokens` table (the SQLite file, or the
PostgreSQL database): a member's API token is a row of `tokens` plus its owner in
`token_members`, written in one transaction, so a token can never exist without its owner (which
would make it a household token with the owner's reach). Tokens without a `token_members` row are
the household's tokens from before members existed; they belong to the owner.

Only hashes are stored: argon2 for passwords, SHA-256 for random session, link and token values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from oneteam.hub.accounts import Member, Role

_TABLES = """
CREATE TABLE IF NOT EXISTS members (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, display TEXT NOT NULL, password_hash TEXT,
  overrides TEXT NOT NULL, expires_at {real}, created_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS member_sessions (
  id {serial} PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, member TEXT NOT NULL, kind TEXT NOT NULL,
  created_at {real} NOT NULL, expires_at {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS member_sessions_member ON member_sessions (member);
CREATE TABLE IF NOT EXISTS token_members (
  token_id {integer} PRIMARY KEY, member TEXT NOT NULL, expires_at {real}
);
"""
SQLITE_TABLES = _TABLES.format(real="REAL", serial="INTEGER", integer="INTEGER")
POSTGRES_TABLES = _TABLES.format(real="DOUBLE PRECISION", serial="BIGSERIAL", integer="BIGINT") + "".join(
    # Every change to these tables wakes the remembered token checks of every hub on the database,
    # on the channel the PostgreSQL store listens on for `tokens` (its `token_stamp`).
    f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
    " FOR EACH STATEMENT EXECUTE FUNCTION oneteam_tokens_changed();\n"
    for table in ("members", "member_sessions", "token_members")
)
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION oneteam_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('oneteam_tokens', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""

SESSION = "session"
LINK = "link"
"""A one-time sign-in link: taken (deleted) by its first use."""

CREDENTIAL_SQL = (
    "SELECT 'token', t.id, t.name, t.door, m.member, m.expires_at FROM tokens t"
    " LEFT JOIN token_members m ON m.token_id = t.id WHERE t.token_hash = {p}"
    " UNION ALL SELECT 'session', s.id, s.kind, NULL, s.member, s.expires_at FROM member_sessions s"
    " WHERE s.token_hash = {p} AND s.kind = 'session'"
)
TOKENS_SQL = (
    "SELECT t.id, t.name, t.created_at, t.door, m.member, m.expires_at FROM tokens t"
    " LEFT JOIN token_members m ON m.token_id = t.id ORDER BY t.id"
)
CREDENTIALS_SQL = (
    "SELECT t.token_hash, 'token', t.id, t.name, t.door, m.member, m.expires_at FROM tokens t"
    " LEFT JOIN token_members m ON m.token_id = t.id"
    " UNION ALL SELECT s.token_hash, 'session', s.id, s.kind, NULL, s.member, s.expires_at"
    " FROM member_sessions s WHERE s.kind = 'session'"
)
"""Every credential of a home, each row its hash and then what CREDENTIAL_SQL gives for it."""
MEMBER_COLUMNS = "name, role, display, password_hash, overrides, expires_at, created_at"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """What a bearer value is: an API token (`member` None for a household token) or a session."""

    kind: str
    id: int
    name: str
    """The token's name; for a session, `session`."""
    door: str | None
    member: str | None
    expires_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownCredentials:
    """A home's every credential (by hash) and member, read together with other homes' as a
    process took them (cluster/opening_reads.py), valid while the token stamp is still `stamp`:
    the stamp as it was before that read began, so a change landing during it is not missed."""

    stamp: int
    credentials: dict[str, Credential]
    members: list[Member]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRow:
    """A token as listed (never its value or hash)."""

    id: int
    name: str
    created_at: float
    door: str | None
    member: str | None
    expires_at: float | None


class AccountStore(Protocol):
    """The household's tables in the hub's database."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def members(self) -> list[Member]: ...
    async def put_member(self, member: Member) -> None: ...
    async def delete_member(self, name: str) -> bool:
        """Remove a member with their sessions and tokens."""

    async def add_session(
        self, member: str, token_hash: str, kind: str, created_at: float, expires_at: float
    ) -> int: ...
    async def take_link(self, token_hash: str, now: float) -> str | None:
        """The member of an unexpired sign-in link, which is used up by this call (once only)."""

    async def delete_session(self, token_hash: str) -> bool: ...
    async def delete_sessions(self, member: str) -> int: ...
    async def prune(self, now: float) -> None:
        """Forget expired sessions and links."""

    async def add_member_token(
        self,
        name: str,
        token_hash: str,
        created_at: float,
        *,
        door: str | None,
        member: str,
        expires_at: float | None,
    ) -> int: ...
    async def add_token(self, name: str, token_hash: str, created_at: float, *, door: str | None) -> int:
        """A household token (no member), committed before this returns."""

    async def tokens(self) -> list[TokenRow]: ...
    async def revoke_token(self, token_id: int) -> bool: ...
    async def credential(self, token_hash: str) -> Credential | None: ...
    def opening_credentials(self) -> KnownCredentials | None:
        """The home's credentials and members read before it opened, once; None when not read so."""


def member_of(row: tuple[Any, ...]) -> Member:
    name, role, display, password_hash, overrides, expires_at, created_at = row
    return Member(
        name=str(name),
        role=Role(str(role)),
        display=str(display),
        password_hash=None if password_hash is None else str(password_hash),
        overrides=json.loads(str(overrides)),
        expires_at=None if expires_at is None else float(expires_at),
        created_at=float(created_at),
    )


def member_params(member: Member) -> tuple[Any, ...]:
    return (
        member.name,
        str(member.role),
        member.display,
        member.password_hash,
        json.dumps(dict(member.overrides), ensure_ascii=False, sort_keys=True),
        member.expires_at,
        member.created_at,
    )


def credential_of(row: tuple[Any, ...]) -> Credential:
    kind, row_id, name, door, member, expires_at = row
    return Credential(
        kind=str(kind),
        id=int(row_id),
        name=str(name),
        door=None if door is None else str(door),
        member=None if member is None else str(member),
        expires_at=None if expires_at is None else float(expires_at),
    )


def token_row(row: tuple[Any, ...]) -> TokenRow:
    token_id, name, created_at, door, member, expires_at = row
    return TokenRow(
        id=int(token_id),
        name=str(name),
        created_at=float(created_at),
        door=None if door is None else str(door),
        member=None if member is None else str(member),
        expires_at=None if expires_at is None else float(expires_at),
    )
