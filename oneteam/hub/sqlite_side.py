"""A connection of its own to the hub's SQLite file, for a room that keeps a few tables there
(the household's accounts, the household's device changes). Statements are a few rows each and
run inline on the event loop; the file is made owner-only before SQLite opens it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from oneteam.hub.sqlite_store import private_database


class SqliteSide:
    """Opens the file with `schema` applied, closes it, and hands out the open connection."""

    def __init__(self, path: Path, schema: str, what: str) -> None:
        self.path = path
        self._schema = schema
        self._what = what
        self._connection: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self._connection is not None:
            return
        await asyncio.to_thread(private_database, self.path)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.executescript(self._schema)
        self._connection = connection

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise RuntimeError(f"the {self._what} is not open")
        return self._connection
