"""The two account stores behind `AccountStore`: `SqliteAccounts` (the hub's SQLite file, on a
connection of its own) and `PostgresAccounts` (the hub's PostgreSQL database), and `accounts_for`,
which picks the one beside a given `Storage`. The tables, the records and the row mapping they
share are in `accounts_store.py`.
"""

from __future__ import annotations

from pathlib import Path

from oneteam.hub.accounts import Member
from oneteam.hub.accounts_store import (
    CREDENTIAL_SQL,
    CREDENTIALS_SQL,
    MEMBER_COLUMNS,
    NOTIFY_FUNCTION,
    POSTGRES_TABLES,
    SQLITE_TABLES,
    TOKENS_SQL,
    AccountStore,
    Credential,
    KnownCredentials,
    TokenRow,
    credential_of,
    member_of,
    member_params,
    token_row,
)
from oneteam.hub.postgres_tables import Layout, PostgresRows, PostgresSide, Table
from oneteam.hub.sqlite_side import SqliteSide
from oneteam.hub.storage import Storage

ACCOUNT_TABLES = (
    Table(
        "members",
        "name TEXT NOT NULL, role TEXT NOT NULL, display TEXT NOT NULL, password_hash TEXT,"
        " overrides TEXT NOT NULL, expires_at DOUBLE PRECISION, created_at DOUBLE PRECISION NOT NULL",
        "name",
    ),
    Table(
        "member_sessions",
        "id BIGSERIAL, token_hash TEXT NOT NULL, member TEXT NOT NULL, kind TEXT NOT NULL,"
        " created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL",
        "id",
        unique="token_hash",
        indexes=(("member_sessions_member", "member"),),
    ),
    Table(
        "token_members",
        "token_id BIGINT NOT NULL, member TEXT NOT NULL, expires_at DOUBLE PRECISION",
        "token_id",
    ),
)
"""The household's tables, for PostgreSQL layouts (hub/postgres_tables.py)."""


class SqliteAccounts(SqliteSide):
    """The household's tables in the hub's SQLite file, on a connection of their own.

    Statements are a few rows each and run inline on the event loop (a WAL read is microseconds);
    argon2 hashing, the slow part of a sign-in, runs in a thread in `Household`.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(path, SQLITE_TABLES, "household store")

    async def members(self) -> list[Member]:
        rows = self._db().execute(f"SELECT {MEMBER_COLUMNS} FROM members ORDER BY created_at, name")
        return [member_of(row) for row in rows]

    async def put_member(self, member: Member) -> None:
        self._db().execute(
            f"INSERT OR REPLACE INTO members ({MEMBER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            member_params(member),
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
        return [token_row(row) for row in self._db().execute(TOKENS_SQL)]

    async def revoke_token(self, token_id: int) -> bool:
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            removed = db.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount
            db.execute("DELETE FROM token_members WHERE token_id = ?", (token_id,))
        return removed > 0

    async def credential(self, token_hash: str) -> Credential | None:
        row = self._db().execute(CREDENTIAL_SQL.format(p="?"), (token_hash, token_hash)).fetchone()
        return None if row is None else credential_of(row)

    def opening_credentials(self) -> KnownCredentials | None:
        return None  # a lone hub reads its own, a row at a time (microseconds each on SQLite)


class AccountStatements:
    """The household's statements for one PostgreSQL layout (built once per layout)."""

    def __init__(self, layout: Layout) -> None:
        where, read = layout.where, layout.read
        self.members = read(f"SELECT {MEMBER_COLUMNS} FROM members ORDER BY created_at, name", "members")
        self.put_member = layout.insert("members", MEMBER_COLUMNS, key="name")
        owned = f"SELECT token_id FROM token_members WHERE {where('member = %(name)s')}"
        self.delete_member = (
            f"DELETE FROM tokens WHERE {where(f'id IN ({owned})')}",
            f"DELETE FROM token_members WHERE {where('member = %(name)s')}",
            f"DELETE FROM member_sessions WHERE {where('member = %(name)s')}",
            f"DELETE FROM members WHERE {where('name = %(name)s')}",
        )
        self.add_session = layout.insert(
            "member_sessions", "token_hash, member, kind, created_at, expires_at", tail="RETURNING id"
        )
        self.take_link = (
            f"DELETE FROM member_sessions WHERE {where('token_hash = %(token_hash)s')} AND kind = 'link'"
            " RETURNING member, expires_at"
        )
        self.delete_session = (
            f"DELETE FROM member_sessions WHERE {where('token_hash = %(token_hash)s')} AND kind = 'session'"
        )
        self.delete_sessions = f"DELETE FROM member_sessions WHERE {where('member = %(member)s')}"
        self.prune = f"DELETE FROM member_sessions WHERE {where('expires_at <= %(now)s')}"
        self.add_token = layout.insert("tokens", "name, token_hash, created_at, door", tail="RETURNING id")
        self.own_token = layout.insert("token_members", "token_id, member, expires_at")
        self.tokens = read(TOKENS_SQL, "tokens", "token_members")
        self.revoke_token = (
            f"DELETE FROM tokens WHERE {where('id = %(id)s')}",
            f"DELETE FROM token_members WHERE {where('token_id = %(id)s')}",
        )
        self.credential = read(
            CREDENTIAL_SQL.format(p="%(token_hash)s"), "tokens", "token_members", "member_sessions"
        )
        self.credentials = read(CREDENTIALS_SQL, "tokens", "token_members", "member_sessions")


class PostgresAccountTables(PostgresRows):
    """The household's store on PostgreSQL, in either layout (hub/postgres_tables.py)."""

    __slots__ = ()

    _sql: AccountStatements

    async def _all(self, statements: tuple[str, ...], **params: object) -> int:
        """Run `statements` in one transaction; the rows the last one changed."""
        async with self._connection() as db, db.transaction():
            for sql in statements:
                cursor = await db.execute(sql, self._params(params))
        return cursor.rowcount

    async def members(self) -> list[Member]:
        return [member_of(row) for row in await self._rows(self._sql.members)]

    async def put_member(self, member: Member) -> None:
        columns = [c.strip() for c in MEMBER_COLUMNS.split(",")]
        await self._count(self._sql.put_member, **dict(zip(columns, member_params(member), strict=True)))

    async def delete_member(self, name: str) -> bool:
        return await self._all(self._sql.delete_member, name=name) > 0

    async def add_session(
        self, member: str, token_hash: str, kind: str, created_at: float, expires_at: float
    ) -> int:
        rows = await self._rows(
            self._sql.add_session,
            token_hash=token_hash,
            member=member,
            kind=kind,
            created_at=created_at,
            expires_at=expires_at,
        )
        return int(rows[0][0])

    async def take_link(self, token_hash: str, now: float) -> str | None:
        rows = await self._rows(self._sql.take_link, token_hash=token_hash)
        return None if not rows or float(rows[0][1]) <= now else str(rows[0][0])

    async def delete_session(self, token_hash: str) -> bool:
        return await self._count(self._sql.delete_session, token_hash=token_hash) > 0

    async def delete_sessions(self, member: str) -> int:
        return await self._count(self._sql.delete_sessions, member=member)

    async def prune(self, now: float) -> None:
        await self._count(self._sql.prune, now=now)

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
        token = {"name": name, "token_hash": token_hash, "created_at": created_at, "door": door}
        async with self._connection() as db, db.transaction():
            cursor = await db.execute(self._sql.add_token, self._params(token))
            row = await cursor.fetchone()
            assert row is not None
            owner = {"token_id": int(row[0]), "member": member, "expires_at": expires_at}
            await db.execute(self._sql.own_token, self._params(owner))
        return int(row[0])

    async def add_token(self, name: str, token_hash: str, created_at: float, *, door: str | None) -> int:
        rows = await self._rows(
            self._sql.add_token, name=name, token_hash=token_hash, created_at=created_at, door=door
        )
        return int(rows[0][0])

    async def tokens(self) -> list[TokenRow]:
        return [token_row(row) for row in await self._rows(self._sql.tokens)]

    async def revoke_token(self, token_id: int) -> bool:
        async with self._connection() as db, db.transaction():
            cursor = await db.execute(self._sql.revoke_token[0], self._params({"id": token_id}))
            removed = cursor.rowcount
            await db.execute(self._sql.revoke_token[1], self._params({"id": token_id}))
        return removed > 0

    async def credential(self, token_hash: str) -> Credential | None:
        rows = await self._rows(self._sql.credential, token_hash=token_hash)
        return credential_of(rows[0]) if rows else None

    def opening_credentials(self) -> KnownCredentials | None:
        return None  # read ahead only by a process taking many homes (cluster/pgshared.py)


ONE_HOME_ACCOUNTS = AccountStatements(Layout())


class PostgresAccounts(PostgresSide, PostgresAccountTables):
    """The household's tables in the hub's PostgreSQL database (needs the `postgres` extra)."""

    _sql = ONE_HOME_ACCOUNTS

    def __init__(self, url: str) -> None:
        super().__init__(url, NOTIFY_FUNCTION + POSTGRES_TABLES, "household store")


def accounts_for(storage: Storage) -> AccountStore:
    """The household's tables in the same database as `storage`'s tokens (a home's storage on
    tables shared by many homes names its own: `accounts_store`)."""
    own = getattr(storage, "accounts_store", None)
    if callable(own):
        store: AccountStore = own()
        return store
    url = getattr(storage, "url", None)
    if isinstance(url, str) and url.startswith(("postgresql://", "postgres://")):
        return PostgresAccounts(url)
    path = getattr(storage, "path", None)
    if not isinstance(path, Path):
        raise TypeError(f"no household store for {type(storage).__name__}")
    return SqliteAccounts(path)
