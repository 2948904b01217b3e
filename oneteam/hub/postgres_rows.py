"""Running a home's statements on PostgreSQL: `PostgresRows` (named parameters, the home's id
added; rows or a count) over whatever connection a store lends, and `PostgresSide`, a connection
of its own to a single home's database for a room that keeps a few tables beside the hub's."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # psycopg is the `postgres` extra: imported where a connection is made
    import psycopg

Params = Mapping[str, object]


class PostgresRows(ABC):
    """Statements for the home `_home` ("" for a single home's tables), on whatever connection
    `_connection` lends (the store's own, or one from a pool many homes share)."""

    __slots__ = ()

    _home: str

    @abstractmethod
    def _connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A connection for one statement: the store's own, or one borrowed from a shared pool."""

    def _params(self, params: Params) -> dict[str, object]:
        return {"home": self._home, **params}

    async def _rows(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        async with self._connection() as connection:
            cursor = await connection.execute(sql, self._params(params))
            return await cursor.fetchall()

    async def _count(self, sql: str, **params: object) -> int:
        async with self._connection() as connection:
            cursor = await connection.execute(sql, self._params(params))
            return cursor.rowcount


class PostgresSide(PostgresRows):
    """A connection of its own to a single home's database, with `schema` applied on opening,
    for a room that keeps a few tables beside the hub's (the household's, the device changes)."""

    _home = ""

    def __init__(self, url: str, schema: str, what: str) -> None:
        self.url = url
        self._schema = schema
        self._what = what
        self._db: psycopg.AsyncConnection[Any] | None = None

    async def open(self) -> None:
        if self._db is not None:
            return
        import psycopg

        self._db = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self._db.execute(self._schema)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._db is None:
            raise RuntimeError(f"the {self._what} is not open")
        yield self._db
