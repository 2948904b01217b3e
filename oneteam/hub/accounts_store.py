"""Where household members, their sign-in sessions and their tokens are kept.

Beside the hub's own tables, in the same database as its `tokens` table (the SQLite file, or the
PostgreSQL database): a member's API token is a row of `tokens` plus its owner in
`token_members`, written in one transaction, so a token can never exist without its owner (which
would make it a household token with the owner's reach). Tokens without a `token_members` row are
the household's tokens from before members existed; they belong to the owner.

Only hashes are stored: argon2 for passwords, SHA-256 for random session, link and token values.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oneteam.hub.accounts import Member, Role
from oneteam.hub.sqlite_store import private_database
from oneteam.hub.storage import Storage

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
_SQLITE = _TABLES.format(real="REAL", serial="INTEGER", integer="INTEGER")
_POSTGRES = _TABLES.format(real="DOUBLE PRECISION", serial="BIGSERIAL", integer="BIGINT") + "".join(
    # Every change to these tables wakes the remembered token checks of every hub on the database,
    # on the channel the PostgreSQL store listens on for `tokens` (its `token_stamp`).
    f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
    " FOR EACH STATEMENT EXECUTE FUNCTION oneteam_tokens_changed();\n"
    for table in ("members", "member_sessions", "token_members")
)
_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION oneteam_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('oneteam_tokens', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""

SESSION = "session"
LINK = "link"
"""A one-time sign-in link: taken (deleted) by its first use."""

_CREDENTIAL = (
    "SELECT 'token', t.id, t.name, t.door, m.member, m.expires_at FROM tokens t"
    " LEFT JOIN token_members m ON m.token_id = t.id WHERE t.token_hash = {p}"
    " UNION ALL SELECT 'session', s.id, s.kind, NULL, s.member, s.expires_at FROM member_sessions s"
    " WHERE s.token_hash = {p} AND s.kind = 'session'"
)
_TOKENS = (
    "SELECT t.id, t.name, t.created_at, t.door, m.member, m.expires_at FROM tokens t"
    " LEFT JOIN token_members m ON m.token_id = t.id ORDER BY t.id"
)
_MEMBER_COLUMNS = "name, role, display, password_hash, overrides, expires_at, created_at"


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


def _member(row: tuple[Any, ...]) -> Member:
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


def _member_params(member: Member) -> tuple[Any, ...]:
    return (
        member.name,
        str(member.role),
        member.display,
        member.password_hash,
        json.dumps(dict(member.overrides), ensure_ascii=False, sort_keys=True),
        member.expires_at,
        member.created_at,
    )


def _credential(row: tuple[Any, ...]) -> Credential:
    kind, row_id, name, door, member, expires_at = row
    return Credential(
        kind=str(kind),
        id=int(row_id),
        name=str(name),
        door=None if door is None else str(door),
        member=None if member is None else str(member),
        expires_at=None if expires_at is None else float(expires_at),
    )


def _token_row(row: tuple[Any, ...]) -> TokenRow:
    token_id, name, created_at, door, member, expires_at = row
    return TokenRow(
        id=int(token_id),
        name=str(name),
        created_at=float(created_at),
        door=None if door is None else str(door),
        member=None if member is None else str(member),
        expires_at=None if expires_at is None else float(expires_at),
    )


class SqliteAccounts:
    """The household's tables in the hub's SQLite file, on a connection of their own.

    Statements are a few rows each and run inline on the event loop (a WAL read is microseconds);
    argon2 hashing, the slow part of a sign-in, runs in a thread in `Household`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self._connection is not None:
            return
        await asyncio.to_thread(private_database, self.path)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.executescript(_SQLITE)
        self._connection = connection

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError("the household store is not open")
        return self._connection

    async def members(self) -> list[Member]:
        rows = self._db().execute(f"SELECT {_MEMBER_COLUMNS} FROM members ORDER BY created_at, name")
        return [_member(row) for row in rows]

    async def put_member(self, member: Member) -> None:
        self._db().execute(
            f"INSERT OR REPLACE INTO members ({_MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            _member_params(member),
        )

    async def delete_member(self, name: str) -> bool:
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "DELETE FROM tokens WHERE id IN (SELECT token_id FROM token_members WHERE member = ?)",
                (name,),
            )
            db.execute("DELETE FROM token_members WHERE member = ?", (name,))
            db.execute("DELETE FROM member_sessions WHERE member = ?", (name,))
            removed = db.execute("DELETE FROM members WHERE name = ?", (name,)).rowcount
        return removed > 0

    async def add_session(
        self, member: str, token_hash: str, kind: str, created_at: float, expires_at: float
    ) -> int:
        cursor = self._db().execute(
            "INSERT INTO member_sessions (token_hash, member, kind, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, member, kind, created_at, expires_at),
        )
        return int(cursor.lastrowid or 0)

    async def take_link(self, token_hash: str, now: float) -> str | None:
        row = (
            self._db()
            .execute(
                "DELETE FROM member_sessions WHERE token_hash = ? AND kind = 'link'"
                " RETURNING member, expires_at",
                (token_hash,),
            )
            .fetchone()
        )
        return None if row is None or float(row[1]) <= now else str(row[0])

    async def delete_session(self, token_hash: str) -> bool:
        cursor = self._db().execute(
            "DELETE FROM member_sessions WHERE token_hash = ? AND kind = 'session'", (token_hash,)
        )
        return cursor.rowcount > 0

    async def delete_sessions(self, member: str) -> int:
        return self._db().execute("DELETE FROM member_sessions WHERE member = ?", (member,)).rowcount

    async def prune(self, now: float) -> None:
        self._db().execute("DELETE FROM member_sessions WHERE expires_at <= ?", (now,))

    async def add_member_token(
        self,
        name: str,
        token_hash: str,
        created_at: float,
        *,
        door: str | None,
        member: str,
        expires_at: float | None,
    ) -> int:
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute(
                "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (?, ?, ?, ?)",
                (name, token_hash, created_at, door),
            )
            token_id = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO token_members (token_id, member, expires_at) VALUES (?, ?, ?)",
                (token_id, member, expires_at),
            )
        return token_id

    async def add_token(self, name: str, token_hash: str, created_at: float, *, door: str | None) -> int:
        cursor = self._db().execute(
            "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (?, ?, ?, ?)",
            (name, token_hash, created_at, door),
        )
        return int(cursor.lastrowid or 0)

    async def tokens(self) -> list[TokenRow]:
        return [_token_row(row) for row in self._db().execute(_TOKENS)]

    async def revoke_token(self, token_id: int) -> bool:
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            removed = db.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount
            db.execute("DELETE FROM token_members WHERE token_id = ?", (token_id,))
        return removed > 0

    async def credential(self, token_hash: str) -> Credential | None:
        row = self._db().execute(_CREDENTIAL.format(p="?"), (token_hash, token_hash)).fetchone()
        return None if row is None else _credential(row)


class PostgresAccounts:
    """The household's tables in the hub's PostgreSQL database (needs the `postgres` extra)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None

    async def open(self) -> None:
        if self._connection is not None:
            return
        import psycopg

        self._connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self._connection.execute(_NOTIFY_FUNCTION + _POSTGRES)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _db(self) -> Any:
        if self._connection is None:
            raise RuntimeError("the household store is not open")
        return self._connection

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cursor = await self._db().execute(sql, params)
        rows: list[tuple[Any, ...]] = await cursor.fetchall()
        return rows

    async def _count(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        cursor = await self._db().execute(sql, params)
        return int(cursor.rowcount)

    async def members(self) -> list[Member]:
        rows = await self._rows(f"SELECT {_MEMBER_COLUMNS} FROM members ORDER BY created_at, name")
        return [_member(row) for row in rows]

    async def put_member(self, member: Member) -> None:
        await self._db().execute(
            f"INSERT INTO members ({_MEMBER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, display = EXCLUDED.display,"
            " password_hash = EXCLUDED.password_hash, overrides = EXCLUDED.overrides,"
            " expires_at = EXCLUDED.expires_at",
            _member_params(member),
        )

    async def delete_member(self, name: str) -> bool:
        db = self._db()
        async with db.transaction():
            await db.execute(
                "DELETE FROM tokens WHERE id IN (SELECT token_id FROM token_members WHERE member = %s)",
                (name,),
            )
            await db.execute("DELETE FROM token_members WHERE member = %s", (name,))
            await db.execute("DELETE FROM member_sessions WHERE member = %s", (name,))
            removed = await self._count("DELETE FROM members WHERE name = %s", (name,))
        return removed > 0

    async def add_session(
        self, member: str, token_hash: str, kind: str, created_at: float, expires_at: float
    ) -> int:
        rows = await self._rows(
            "INSERT INTO member_sessions (token_hash, member, kind, created_at, expires_at)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (token_hash, member, kind, created_at, expires_at),
        )
        return int(rows[0][0])

    async def take_link(self, token_hash: str, now: float) -> str | None:
        rows = await self._rows(
            "DELETE FROM member_sessions WHERE token_hash = %s AND kind = 'link'"
            " RETURNING member, expires_at",
            (token_hash,),
        )
        return None if not rows or float(rows[0][1]) <= now else str(rows[0][0])

    async def delete_session(self, token_hash: str) -> bool:
        return (
            await self._count(
                "DELETE FROM member_sessions WHERE token_hash = %s AND kind = 'session'", (token_hash,)
            )
            > 0
        )

    async def delete_sessions(self, member: str) -> int:
        return await self._count("DELETE FROM member_sessions WHERE member = %s", (member,))

    async def prune(self, now: float) -> None:
        await self._db().execute("DELETE FROM member_sessions WHERE expires_at <= %s", (now,))

    async def add_member_token(
        self,
        name: str,
        token_hash: str,
        created_at: float,
        *,
        door: str | None,
        member: str,
        expires_at: float | None,
    ) -> int:
        db = self._db()
        async with db.transaction():
            rows = await self._rows(
                "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (name, token_hash, created_at, door),
            )
            token_id = int(rows[0][0])
            await db.execute(
                "INSERT INTO token_members (token_id, member, expires_at) VALUES (%s, %s, %s)",
                (token_id, member, expires_at),
            )
        return token_id

    async def add_token(self, name: str, token_hash: str, created_at: float, *, door: str | None) -> int:
        rows = await self._rows(
            "INSERT INTO tokens (name, token_hash, created_at, door) VALUES (%s, %s, %s, %s) RETURNING id",
            (name, token_hash, created_at, door),
        )
        return int(rows[0][0])

    async def tokens(self) -> list[TokenRow]:
        return [_token_row(row) for row in await self._rows(_TOKENS)]

    async def revoke_token(self, token_id: int) -> bool:
        db = self._db()
        async with db.transaction():
            removed = await self._count("DELETE FROM tokens WHERE id = %s", (token_id,))
            await db.execute("DELETE FROM token_members WHERE token_id = %s", (token_id,))
        return removed > 0

    async def credential(self, token_hash: str) -> Credential | None:
        rows = await self._rows(_CREDENTIAL.format(p="%s"), (token_hash, token_hash))
        return _credential(rows[0]) if rows else None


def accounts_for(storage: Storage) -> AccountStore:
    """The household's tables in the same database as `storage`'s tokens."""
    url = getattr(storage, "url", None)
    if isinstance(url, str) and url.startswith(("postgresql://", "postgres://")):
        return PostgresAccounts(url)
    path = getattr(storage, "path", None)
    if not isinstance(path, Path):
        raise TypeError(f"no household store for {type(storage).__name__}")
    return SqliteAccounts(path)
