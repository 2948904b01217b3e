"""PostgreSQL storage, for homes whose hub runs beside a database server (or several API workers).

Same contract and group commit as the SQLite store: a command is acknowledged once its state is
committed. Needs the `postgres` extra (psycopg 3). The tables and statements are those of
hub/postgres_tables.py in their single-home layout; many homes in one database are
oneteam/cluster/'s.

Token checks are remembered as with SQLite: a trigger on `tokens` sends a NOTIFY on the
`oneteam_tokens` channel with every change, by any process, and `token_stamp` counts the
notifications that reached a listening connection, reading its socket without waiting (a few
microseconds). The notification leaves the server when the change commits, before whoever
revoked a token hears that it is done, so the next check after a revocation sees a new stamp.
"""

from __future__ import annotations

import psycopg

from oneteam.hub.group_commit import GroupCommit, GroupCommitted
from oneteam.hub.postgres_tables import (
    HUB_TABLES,
    HubStatements,
    Layout,
    PostgresSide,
    PostgresTables,
    TokenListener,
    write_rows,
)
from oneteam.model import Event, State

ONE_HOME = HubStatements(Layout())

_MIGRATIONS = """
ALTER TABLE tokens ADD COLUMN IF NOT EXISTS door TEXT;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS booked_by JSONB;
"""
"""Columns added since the first release, for databases made before them."""

TOKENS_CHANNEL = "oneteam_tokens"


_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION oneteam_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('oneteam_tokens', TG_TABLE_NAME);
  RETURN NULL;
END $$;
"""


def notify_token_changes(*tables: str) -> str:
    """SQL that makes every change to `tables` (tokens, or tables that decide what a token may
    do: members, their sessions and tokens) wake the remembered token checks of every hub on the
    database, whichever process made it."""
    return _NOTIFY_FUNCTION + "".join(
        f"CREATE OR REPLACE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION oneteam_tokens_changed();\n"
        for table in tables
    )


class PostgresStorage(PostgresSide, PostgresTables, GroupCommitted):
    """The hub's storage in a PostgreSQL database (`postgresql://user@host:5432/oneteam`)."""

    _sql = ONE_HOME

    def __init__(self, url: str) -> None:
        schema = ONE_HOME.layout.create_all(HUB_TABLES) + _MIGRATIONS + notify_token_changes("tokens")
        super().__init__(url, schema, "storage")
        self._writes = GroupCommit(self._commit, (psycopg.Error,))
        self._listener = TokenListener(url, TOKENS_CHANNEL)
        self._token_changes = 0

    async def open(self) -> None:
        """Connect, create the schema, listen for token changes, and start the group-commit writer."""
        if self._writes.is_running:
            return
        await super().open()
        await self._listener.open()
        self._writes.start()

    async def close(self) -> None:
        """Commit what is queued and disconnect."""
        if not self._writes.is_running:
            return
        await self._writes.stop()
        self._listener.close()
        await super().close()

    async def _commit(self, states: list[tuple[str, State]], events: list[tuple[str, Event]]) -> None:
        async with self._connection() as connection, connection.transaction():
            await write_rows(connection, ONE_HOME, states, events)

    def token_stamp(self) -> int | None:
        """How many token changes this hub has heard of: the listening connection's socket is
        read without waiting and its notifications counted. None (every check asks the database)
        when the listening connection is gone."""
        payloads = self._listener.heard()
        if payloads is None:
            return None
        self._token_changes += len(payloads)
        return self._token_changes
