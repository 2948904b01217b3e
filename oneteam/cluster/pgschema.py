"""The tables many homes share in one PostgreSQL database, created once: each home-scoped table
keyed by `home_id` first and split into hash partitions of it, in the schema `oneteam_homes` (so
a single-home hub's tables can live in the same database untouched).

A change to a table that decides what a bearer value is (tokens, members, their sessions and
tokens) sends a NOTIFY on `oneteam_home_tokens` whose payload is the home's id (`*` for a TRUNCATE),
so a process forgets only that home's remembered token checks.
"""

from __future__ import annotations

from typing import Any

import psycopg

from oneteam.hub.postgres_tables import HUB_TABLES, Layout, Table

SCHEMA = "oneteam_homes"
TOKENS_CHANNEL = "oneteam_home_tokens"
PARTITIONS = 16
_LOCK = 0x0E7EA4
"""The advisory lock that keeps two processes from creating the tables at the same moment."""

TOKEN_TABLES = ("tokens",)
"""Tables whose changes wake the token checks; the household's add theirs (see `home_tables`)."""


def _notify(tables: tuple[str, ...]) -> str:
    function = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.home_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('{TOKENS_CHANNEL}', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('{TOKENS_CHANNEL}', OLD.home_id);
  ELSE
    PERFORM pg_notify('{TOKENS_CHANNEL}', NEW.home_id);
  END IF;
  RETURN NULL;
END $$;
"""
    return function + "".join(
        f"CREATE OR REPLACE TRIGGER {t}_changed AFTER INSERT OR UPDATE OR DELETE ON {t}"
        f" FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.home_tokens_changed();\n"
        f"CREATE OR REPLACE TRIGGER {t}_truncated AFTER TRUNCATE ON {t}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.home_tokens_changed();\n"
        for t in tables
    )


def home_tables() -> tuple[tuple[Table, ...], tuple[str, ...]]:
    """Every home-scoped table, and those of them that decide what a token may do."""
    from oneteam.automation.store_pg import ROUTINE_TABLES
    from oneteam.hub.accounts_db import ACCOUNT_TABLES
    from oneteam.hub.device_overrides import OVERRIDE_TABLES
    from oneteam.interop.smarthome.store_pg import PARTNER_TABLES

    # Routines and the partner door's links and tokens too (cluster/tenant_stores.py): a home
    # that moves to another process finds them there.
    tables = HUB_TABLES + ACCOUNT_TABLES + OVERRIDE_TABLES + ROUTINE_TABLES + PARTNER_TABLES
    return tables, TOKEN_TABLES + tuple(t.name for t in ACCOUNT_TABLES)


def schema_sql(partitions: int = PARTITIONS) -> str:
    """The statements that create the shared tables, their partitions, indexes and triggers."""
    tables, token_tables = home_tables()
    return Layout(partitions).create_all(tables) + _notify(token_tables)


def connection_options() -> dict[str, Any]:
    """What every connection to the shared tables is opened with."""
    return {"autocommit": True, "options": f"-c search_path={SCHEMA}"}


async def partition_count(connection: psycopg.AsyncConnection[Any], table: str = "states") -> int:
    """How many partitions `table` of the shared schema has (0 when it does not exist)."""
    cursor = await connection.execute(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (SCHEMA, table),
    )
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def ensure_schema(url: str, partitions: int = PARTITIONS) -> None:
    """Create the shared tables with `partitions` partitions each, if they are not there; any
    number of processes may call it at once. ValueError when they exist with another count
    (a hash partitioning is chosen once: moving rows to a new count is a migration)."""
    if not 1 <= partitions <= 1024:
        raise ValueError(f"partitions must be between 1 and 1024, not {partitions}")
    connection = await psycopg.AsyncConnection.connect(url, **connection_options())
    async with connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        existing = await partition_count(connection)
        if existing and existing != partitions:
            raise ValueError(
                f"the shared tables have {existing} partitions, not {partitions}: keep {existing}"
            )
        await connection.execute(schema_sql(partitions))
