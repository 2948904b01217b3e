"""A hub that kept its routines and partner door in its SQLite file, now started with a PostgreSQL
URL, takes them along once: routines, runs (with traces), marks, partners (signing keys sealed
again for their home), service accounts, links and tokens are copied into its home's rows.

Before this release a hub on PostgreSQL kept these tables in the SQLite file of its data folder;
without the copy its routines and partner links would silently be gone. The file is only read;
a mark in the home's rows says the copy was made, so it is made once. Authorization codes are not
copied: they live ten minutes.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path
from typing import Any

from oneteam.cluster.tenant_stores import TenantStores
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME, Sealer, is_sealed

_LOGGER = logging.getLogger(__name__)

IMPORTED_MARK = "imported:sqlite"
"""The automation mark that says this home's SQLite side tables were copied (its value: when)."""

_COPIED = {
    # table: the columns copied as they are (run and token row ids are PostgreSQL's to give)
    "automation_routines": "id, kind, body, enabled, origin, updated_at, owner",
    "automation_runs": "routine_id, status, trigger, started_at, finished_at, step, resume_at, trace",
    "automation_marks": "name, value",
    "partner_clients": "client_id, name, secret_hash, redirect_uris, scopes, rate_per_minute, report_url,"
    " report_key, created_at, pkce_required",
    "partner_service_accounts": "client_id, sealed_key_file",
    "partner_links": "id, client_id, agent_user_id, device_ids, scope, created_at, revoked_at",
    "oauth_tokens": "link_id, client_id, access_hash, refresh_hash, scope, access_expires_at,"
    " refresh_expires_at, rotated_at, revoked_at",
}
_BOOLEAN = {"enabled", "pkce_required"}
_JSON = {"body", "owner", "trigger", "trace"}


def import_sqlite(path: Path, stores: TenantStores, home_id: str) -> dict[str, int] | None:
    """Copy the side tables of the SQLite file at `path` into `home_id`'s rows, once (blocking);
    the number of rows per table, or None when there was nothing to do."""
    if not path.exists() or stores.routines(home_id).mark(IMPORTED_MARK) is not None:
        return None
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as source:
        source.row_factory = sqlite3.Row
        present = {str(r[0]) for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not present & set(_COPIED):
            return None
        rows = {table: _rows(source, table) for table in _COPIED if table in present}
    old_keys = Sealer(path.with_name(KEY_FILE_NAME)) if rows.get("partner_clients") else None
    new_keys = stores.sealer
    pool = stores.pool
    counts: dict[str, int] = {}
    with pool.connection() as connection, connection.transaction():
        for table, found in rows.items():
            for row in found:
                if table in ("partner_clients", "partner_service_accounts") and old_keys is not None:
                    column = "report_key" if table == "partner_clients" else "sealed_key_file"
                    client = str(row["client_id"])
                    stored = str(row[column])
                    plain = old_keys.open(stored, client) if is_sealed(stored) else stored
                    row[column] = new_keys.seal(plain, f"{home_id}/{client}")
                names = list(row)
                values = ", ".join("%s::json" if n in _JSON else "%s" for n in names)
                connection.execute(
                    f"INSERT INTO {table} (home_id, {', '.join(names)}) VALUES (%s, {values})"
                    " ON CONFLICT DO NOTHING",
                    (home_id, *row.values()),
                )
            counts[table] = len(found)
        connection.execute(
            "INSERT INTO automation_marks (home_id, name, value) VALUES (%s, %s, extract(epoch FROM now()))"
            " ON CONFLICT DO NOTHING",
            (home_id, IMPORTED_MARK),
        )
    _LOGGER.info("copied the side tables of %s into home %s: %s", path, home_id, counts)
    return counts


def _rows(source: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    columns = {str(r[1]) for r in source.execute(f"PRAGMA table_info({table})")}
    wanted = [c.strip() for c in _COPIED[table].split(",") if c.strip() in columns]
    found = []
    for row in source.execute(f"SELECT {', '.join(wanted)} FROM {table}"):
        values = {name: row[name] for name in wanted}
        for name in _BOOLEAN & set(values):
            values[name] = bool(values[name])
        found.append(values)
    return found
