"""The partner door's tables in PostgreSQL: one home's partners, links, codes and tokens among
every home's.

`home_id` leads every key and every statement: a code, access or refresh token hashed at home A
is looked up as (A, hash), so presented at home B it is simply unknown (401 / invalid_grant), and
a link id of A cannot be revoked from B. The tables are declared as the hub's are
(hub/postgres_tables.py `Table`) and created with them by oneteam/cluster/pgschema.py, in its
schema and partition count: home_id first in every key, PARTITION BY HASH (home_id).

As in SQLite, only SHA-256 hashes of secrets, codes and tokens are kept, and each partner's
report-signing key is sealed (sealed.py), bound to its home and client id: a row copied into
another home's partition does not open. Every process serving homes reads the same key file, so
a home that moves keeps its partners' keys. Calls are blocking and short (async callers use a
thread), each borrowing a connection of the process's shared pool.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from oneteam.hub.fence import Fence
from oneteam.hub.postgres_tables import Table
from oneteam.interop.smarthome.records import (
    CODE_COLUMNS,
    PARTNER_COLUMNS,
    CodeRecord,
    Link,
    Partner,
    TokenRecord,
    code_of,
    code_row,
    digest,
    link_of,
    new_partner,
    partner_of,
    partner_row,
    record_of,
)
from oneteam.interop.smarthome.sealed import Sealer
from oneteam.interop.smarthome.service_account import ServiceAccount

PARTNER_TABLES = (
    Table(
        "partner_clients",
        "client_id TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL, "
        "redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL, rate_per_minute INTEGER NOT NULL, "
        "report_url TEXT, report_key TEXT NOT NULL, "
        "created_at DOUBLE PRECISION NOT NULL, pkce_required BOOLEAN NOT NULL DEFAULT TRUE",
        "client_id",
    ),
    Table("partner_service_accounts", "client_id TEXT NOT NULL, sealed_key_file TEXT NOT NULL", "client_id"),
    Table(
        "partner_links",
        "id TEXT NOT NULL, client_id TEXT NOT NULL, agent_user_id TEXT NOT NULL, device_ids TEXT NOT NULL, "
        "scope TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION",
        "id",
    ),
    Table(
        "oauth_codes",
        "code_hash TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL, "
        "code_challenge TEXT, code_challenge_method TEXT, agent_user_id TEXT NOT NULL, "
        "device_ids TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL, used_at DOUBLE PRECISION, "
        "link_id TEXT",
        "code_hash",
    ),
    Table(
        "oauth_tokens",
        "id BIGSERIAL, link_id TEXT NOT NULL, client_id TEXT NOT NULL, access_hash TEXT NOT NULL, "
        "refresh_hash TEXT, scope TEXT NOT NULL, access_expires_at DOUBLE PRECISION NOT NULL, "
        "refresh_expires_at DOUBLE PRECISION NOT NULL, rotated_at DOUBLE PRECISION, "
        "revoked_at DOUBLE PRECISION",
        "id",
        unique="access_hash",
        # Refresh hashes are looked up, not constrained: SHA-256 of 32 random bytes do not collide.
        indexes=(("oauth_tokens_refresh", "refresh_hash"), ("oauth_tokens_link", "link_id")),
    ),
)
"""The partner tables as one home sees them; the shared layout puts home_id first in each key."""


class PostgresPartnerStore:
    """One home's rows of the partner tables (the `PartnerStorage` contract)."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        home_id: str,
        sealer: Sealer,
        *,
        owns_pool: bool = False,
        fence: Fence | None = None,
    ) -> None:
        self.pool = pool
        self.home_id = home_id
        self.fence = fence
        """Checked in each write's transaction: a process whose lease on the home is stale writes
        nothing (StorageFailed), as the hub's fenced writes (cluster/pgshared.py)."""
        self._sealer = sealer
        self._owns_pool = owns_pool
        self.version = 0
        """Bumped by every change to partners or links made through this object (caches compare it)."""

    def close(self) -> None:
        """Close the pool when it was opened for this store alone (a CLI command); a process's
        shared pool outlives each home."""
        if self._owns_pool:
            self.pool.close()

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self.pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
            rows: list[dict[str, Any]] = cursor.execute(sql, (self.home_id, *args)).fetchall()
            return rows

    def _run(self, sql: str, *args: Any) -> int:
        """One statement (its parameters in order, the home among them); the rows it changed."""
        with self._writing() as connection:
            count: int = connection.execute(sql, args).rowcount
        if count and "partner_" in sql:
            self.version += 1
        return count

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection in a transaction that this process may still write the home in."""
        with self.pool.connection() as connection, connection.transaction():
            if self.fence is not None:
                self.fence(connection)
            yield connection

    def _seal_context(self, client_id: str) -> str:
        return f"{self.home_id}/{client_id}"

    # -- partners -----------------------------------------------------------------------------

    def add_partner(
        self,
        name: str,
        redirect_uris: list[str],
        *,
        scopes: tuple[str, ...] = ("devices.read", "devices.control"),
        rate_per_minute: int = 600,
        report_url: str | None = None,
        pkce_required: bool = True,
    ) -> tuple[Partner, str]:
        """Register a partner at this home; returns it and its client secret (shown once)."""
        partner, secret = new_partner(
            name,
            redirect_uris,
            scopes=scopes,
            rate_per_minute=rate_per_minute,
            report_url=report_url,
            pkce_required=pkce_required,
        )
        sealed = self._sealer.seal(partner.report_key, self._seal_context(partner.client_id))
        self._run(
            f"INSERT INTO partner_clients (home_id, {PARTNER_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})",
            self.home_id,
            *partner_row(partner, sealed),
        )
        return partner, secret

    def set_service_account(self, client_id: str, key_file: str) -> ServiceAccount:
        """Report state to this partner HomeGraph-style (see PartnerStore.set_service_account)."""
        if self.partner(client_id) is None:
            raise KeyError(client_id)
        account = ServiceAccount.from_json(key_file)
        self._run(
            "INSERT INTO partner_service_accounts (home_id, client_id, sealed_key_file) VALUES (%s, %s, %s)"
            " ON CONFLICT (home_id, client_id) DO UPDATE SET sealed_key_file = excluded.sealed_key_file",
            self.home_id,
            client_id,
            self._sealer.seal(account.to_json(), self._seal_context(client_id)),
        )
        return account

    def service_accounts(self) -> dict[str, ServiceAccount]:
        """Partner client id → its service account, for partners in the HomeGraph mode."""
        return {
            row["client_id"]: ServiceAccount.from_json(
                self._sealer.open(row["sealed_key_file"], self._seal_context(row["client_id"]))
            )
            for row in self._all(
                "SELECT client_id, sealed_key_file FROM partner_service_accounts WHERE home_id = %s"
            )
        }

    def partner(self, client_id: str) -> Partner | None:
        """One partner of this home, or None."""
        rows = self._all("SELECT * FROM partner_clients WHERE home_id = %s AND client_id = %s", client_id)
        return self._partner(rows[0]) if rows else None

    def partners(self) -> list[Partner]:
        """Every partner of this home, oldest first."""
        rows = self._all("SELECT * FROM partner_clients WHERE home_id = %s ORDER BY created_at")
        return [self._partner(r) for r in rows]

    def _partner(self, row: dict[str, Any]) -> Partner:
        return partner_of(row, self._sealer.open(row["report_key"], self._seal_context(row["client_id"])))

    def remove_partner(self, client_id: str) -> int | None:
        """Delete a partner and revoke its links; the number of links revoked, or None if unknown."""
        if self.partner(client_id) is None:
            return None
        now = time.time()
        with self._writing() as connection:
            revoked: int = connection.execute(
                "UPDATE partner_links SET revoked_at = %s"
                " WHERE home_id = %s AND client_id = %s AND revoked_at IS NULL",
                (now, self.home_id, client_id),
            ).rowcount
            connection.execute(
                "UPDATE oauth_tokens SET revoked_at = %s"
                " WHERE home_id = %s AND client_id = %s AND revoked_at IS NULL",
                (now, self.home_id, client_id),
            )
            for table in ("oauth_codes", "partner_clients", "partner_service_accounts"):
                connection.execute(
                    f"DELETE FROM {table} WHERE home_id = %s AND client_id = %s", (self.home_id, client_id)
                )
        self.version += 1
        return revoked

    # -- codes --------------------------------------------------------------------------------

    def save_code(self, code: str, record: CodeRecord) -> None:
        """Keep an issued authorization code (hashed)."""
        self._run(
            f"INSERT INTO oauth_codes (home_id, {CODE_COLUMNS}) VALUES ({', '.join(['%s'] * 10)})",
            self.home_id,
            *code_row(code, record),
        )

    def code(self, code: str) -> CodeRecord | None:
        """The stored record of a code issued at this home, used or not."""
        rows = self._all("SELECT * FROM oauth_codes WHERE home_id = %s AND code_hash = %s", digest(code))
        if not rows:
            return None
        return code_of(rows[0])

    def claim_code(self, code_hash: str, link_id: str) -> bool:
        """Mark a code redeemed, once: False when another redemption (any process) got there first."""
        return (
            self._run(
                "UPDATE oauth_codes SET used_at = %s, link_id = %s"
                " WHERE home_id = %s AND code_hash = %s AND used_at IS NULL",
                time.time(),
                link_id,
                self.home_id,
                code_hash,
            )
            == 1
        )

    # -- links and tokens ---------------------------------------------------------------------

    def create_link(
        self, client_id: str, agent_user_id: str, device_ids: tuple[str, ...], scope: str
    ) -> Link:
        """A new account link."""
        link = Link(
            id="l_" + secrets.token_hex(8),
            client_id=client_id,
            agent_user_id=agent_user_id,
            device_ids=device_ids,
            scope=scope,
            created_at=time.time(),
        )
        self._run(
            "INSERT INTO partner_links (home_id, id, client_id, agent_user_id, device_ids, scope, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            self.home_id,
            link.id,
            client_id,
            agent_user_id,
            json.dumps(list(device_ids)),
            scope,
            link.created_at,
        )
        return link

    def link(self, link_id: str) -> Link | None:
        """One link of this home, revoked or not."""
        rows = self._all("SELECT * FROM partner_links WHERE home_id = %s AND id = %s", link_id)
        return link_of(rows[0]) if rows else None

    def links(self, client_id: str | None = None) -> list[Link]:
        """This home's links, of one partner or all, oldest first."""
        if client_id is None:
            rows = self._all("SELECT * FROM partner_links WHERE home_id = %s ORDER BY created_at")
        else:
            rows = self._all(
                "SELECT * FROM partner_links WHERE home_id = %s AND client_id = %s ORDER BY created_at",
                client_id,
            )
        return [link_of(r) for r in rows]

    def revoke_link(self, link_id: str) -> bool:
        """End a link and every token of it; False when this home had no such active link."""
        now = time.time()
        with self._writing() as connection:
            changed: int = connection.execute(
                "UPDATE partner_links SET revoked_at = %s"
                " WHERE home_id = %s AND id = %s AND revoked_at IS NULL",
                (now, self.home_id, link_id),
            ).rowcount
            connection.execute(
                "UPDATE oauth_tokens SET revoked_at = %s"
                " WHERE home_id = %s AND link_id = %s AND revoked_at IS NULL",
                (now, self.home_id, link_id),
            )
        if changed:
            self.version += 1
        return changed > 0

    def save_tokens(
        self,
        link_id: str,
        client_id: str,
        access: str,
        refresh: str | None,
        scope: str,
        access_s: float,
        refresh_s: float,
    ) -> None:
        """Keep a freshly issued token pair (hashed)."""
        now = time.time()
        self._run(
            "INSERT INTO oauth_tokens (home_id, link_id, client_id, access_hash, refresh_hash, scope,"
            " access_expires_at, refresh_expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            self.home_id,
            link_id,
            client_id,
            digest(access),
            digest(refresh) if refresh else None,
            scope,
            now + access_s,
            now + refresh_s,
        )

    def by_access(self, access: str) -> TokenRecord | None:
        """The token record of an access token issued at this home."""
        return self._token("access_hash", access)

    def by_refresh(self, refresh: str) -> TokenRecord | None:
        """The token record of a refresh token issued at this home."""
        return self._token("refresh_hash", refresh)

    def _token(self, column: str, secret: str) -> TokenRecord | None:
        rows = self._all(f"SELECT * FROM oauth_tokens WHERE home_id = %s AND {column} = %s", digest(secret))
        return record_of(TokenRecord, rows[0]) if rows else None

    def claim_refresh(self, token_id: int) -> bool:
        """Retire a token pair whose refresh token is being exchanged, once (see PartnerStore)."""
        return (
            self._run(
                "UPDATE oauth_tokens SET rotated_at = %s"
                " WHERE home_id = %s AND id = %s AND rotated_at IS NULL AND revoked_at IS NULL",
                time.time(),
                self.home_id,
                token_id,
            )
            == 1
        )
