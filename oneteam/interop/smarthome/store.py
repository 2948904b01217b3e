"""Partners, account links, authorization codes and tokens in SQLite (`partner_*` / `oauth_*` tables).

Only SHA-256 hashes of client secrets, codes and tokens are kept: all of them are 32 random bytes,
so a fast unsalted hash leaves nothing to brute-force (as for the hub's own tokens). The one
secret we must hold to use, each partner's report-state signing key, is kept sealed with the key in
`partners.key` beside the database (sealed.py); rows from before sealing are sealed on open.
Calls are blocking and short; async callers run them with `asyncio.to_thread`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from oneteam.hub.sqlite_store import private_database
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
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME, Sealer, is_sealed
from oneteam.interop.smarthome.service_account import ServiceAccount

_SCHEMA = """
CREATE TABLE IF NOT EXISTS partner_clients (
  client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
  redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL, rate_per_minute INTEGER NOT NULL,
  report_url TEXT, report_key TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_service_accounts (
  client_id TEXT PRIMARY KEY, sealed_key_file TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS partner_links (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, agent_user_id TEXT NOT NULL, device_ids TEXT NOT NULL,
  scope TEXT NOT NULL, created_at REAL NOT NULL, revoked_at REAL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
  code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, scope TEXT NOT NULL,
  code_challenge TEXT, code_challenge_method TEXT, agent_user_id TEXT NOT NULL, device_ids TEXT NOT NULL,
  expires_at REAL NOT NULL, used_at REAL, link_id TEXT
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, link_id TEXT NOT NULL, client_id TEXT NOT NULL,
  access_hash TEXT NOT NULL UNIQUE, refresh_hash TEXT UNIQUE, scope TEXT NOT NULL,
  access_expires_at REAL NOT NULL, refresh_expires_at REAL NOT NULL, rotated_at REAL, revoked_at REAL
);
CREATE INDEX IF NOT EXISTS oauth_tokens_link ON oauth_tokens (link_id);
"""


class PartnerStorage(Protocol):
    """What the partner door needs of its tables, whichever database holds them: `PartnerStore`
    (one SQLite file, one home) or one home's rows of shared PostgreSQL tables (store_pg.py), where
    a code or token issued at one home is unknown at every other."""

    version: int
    """Bumped by every change to partners or links made through this object (caches compare it)."""

    def close(self) -> None: ...
    def add_partner(
        self,
        name: str,
        redirect_uris: list[str],
        *,
        scopes: tuple[str, ...] = ("devices.read", "devices.control"),
        rate_per_minute: int = 600,
        report_url: str | None = None,
        pkce_required: bool = True,
    ) -> tuple[Partner, str]: ...
    def set_service_account(self, client_id: str, key_file: str) -> ServiceAccount: ...
    def service_accounts(self) -> dict[str, ServiceAccount]: ...
    def partner(self, client_id: str) -> Partner | None: ...
    def partners(self) -> list[Partner]: ...
    def remove_partner(self, client_id: str) -> int | None: ...
    def save_code(self, code: str, record: CodeRecord) -> None: ...
    def code(self, code: str) -> CodeRecord | None: ...
    def claim_code(self, code_hash: str, link_id: str) -> bool: ...
    def create_link(
        self, client_id: str, agent_user_id: str, device_ids: tuple[str, ...], scope: str
    ) -> Link: ...
    def link(self, link_id: str) -> Link | None: ...
    def links(self, client_id: str | None = None) -> list[Link]: ...
    def revoke_link(self, link_id: str) -> bool: ...
    def save_tokens(
        self,
        link_id: str,
        client_id: str,
        access: str,
        refresh: str | None,
        scope: str,
        access_s: float,
        refresh_s: float,
    ) -> None: ...
    def by_access(self, access: str) -> TokenRecord | None: ...
    def by_refresh(self, refresh: str) -> TokenRecord | None: ...
    def claim_refresh(self, token_id: int) -> bool: ...


class PartnerStore:
    """The partner, link, code and token tables of one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_database(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(partner_clients)")}
        if "pkce_required" not in columns:  # a database from before the PKCE opt-out
            self._db.execute(
                "ALTER TABLE partner_clients ADD COLUMN pkce_required INTEGER NOT NULL DEFAULT 1"
            )
        self._sealer = Sealer(self.path.with_name(KEY_FILE_NAME))
        self._seal_plain_keys()
        self.version = 0
        """Bumped by every change to partners or links made through this object (caches compare it)."""

    def _seal_plain_keys(self) -> None:
        """Seal signing keys stored in plain text by an older oneteam, and scrub the old bytes."""
        plain = [
            (row["client_id"], row["report_key"])
            for row in self._db.execute("SELECT client_id, report_key FROM partner_clients")
            if not is_sealed(row["report_key"])
        ]
        if not plain:
            return
        self._db.execute("PRAGMA secure_delete=ON")  # overwrite the old values, do not just unlink them
        for client_id, key in plain:
            self._db.execute(
                "UPDATE partner_clients SET report_key = ? WHERE client_id = ?",
                (self._sealer.seal(key, client_id), client_id),
            )
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def _run(self, sql: str, *args: Any) -> int:
        with self._lock:
            count = self._db.execute(sql, args).rowcount
            if count and "partner_" in sql:
                self.version += 1
            return count

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
        """Register a partner; returns it and its client secret (shown once, stored hashed)."""
        partner, secret = new_partner(
            name,
            redirect_uris,
            scopes=scopes,
            rate_per_minute=rate_per_minute,
            report_url=report_url,
            pkce_required=pkce_required,
        )
        sealed = self._sealer.seal(partner.report_key, partner.client_id)
        self._run(
            f"INSERT INTO partner_clients ({PARTNER_COLUMNS}) VALUES ({', '.join('?' * 10)})",
            *partner_row(partner, sealed),
        )
        return partner, secret

    def set_service_account(self, client_id: str, key_file: str) -> ServiceAccount:
        """Report state to this partner HomeGraph-style, with its service-account key file (JSON,
        kept sealed); ServiceAccountError when unusable, KeyError for an unknown partner."""
        if self.partner(client_id) is None:
            raise KeyError(client_id)
        account = ServiceAccount.from_json(key_file)
        self._run(
            "INSERT OR REPLACE INTO partner_service_accounts VALUES (?, ?)",
            client_id,
            self._sealer.seal(account.to_json(), client_id),
        )
        return account

    def service_accounts(self) -> dict[str, ServiceAccount]:
        """Partner client id → its service account, for partners in the HomeGraph mode."""
        return {
            row["client_id"]: ServiceAccount.from_json(
                self._sealer.open(row["sealed_key_file"], row["client_id"])
            )
            for row in self._all("SELECT client_id, sealed_key_file FROM partner_service_accounts")
        }

    def partner(self, client_id: str) -> Partner | None:
        """One partner, or None."""
        rows = self._all("SELECT * FROM partner_clients WHERE client_id = ?", client_id)
        return self._partner(rows[0]) if rows else None

    def partners(self) -> list[Partner]:
        """Every partner, oldest first."""
        return [self._partner(r) for r in self._all("SELECT * FROM partner_clients ORDER BY created_at")]

    def _partner(self, row: sqlite3.Row) -> Partner:
        stored = str(row["report_key"])
        key = self._sealer.open(stored, row["client_id"]) if is_sealed(stored) else stored
        return partner_of(row, key)

    def remove_partner(self, client_id: str) -> int | None:
        """Delete a partner and revoke its links; the number of links revoked, or None if unknown."""
        if self.partner(client_id) is None:
            return None
        revoked = len([link for link in self.links(client_id) if link.revoked_at is None])
        now = time.time()
        self._run(
            "UPDATE partner_links SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
            now,
            client_id,
        )
        self._run(
            "UPDATE oauth_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
            now,
            client_id,
        )
        self._run("DELETE FROM oauth_codes WHERE client_id = ?", client_id)
        self._run("DELETE FROM partner_clients WHERE client_id = ?", client_id)
        self._run("DELETE FROM partner_service_accounts WHERE client_id = ?", client_id)
        return revoked

    # -- codes --------------------------------------------------------------------------------

    def save_code(self, code: str, record: CodeRecord) -> None:
        """Keep an issued authorization code (hashed)."""
        self._run(
            f"INSERT INTO oauth_codes ({CODE_COLUMNS}) VALUES ({', '.join('?' * 9)})", *code_row(code, record)
        )

    def code(self, code: str) -> CodeRecord | None:
        """The stored record of a code, used or not."""
        rows = self._all("SELECT * FROM oauth_codes WHERE code_hash = ?", digest(code))
        if not rows:
            return None
        return code_of(rows[0])

    def claim_code(self, code_hash: str, link_id: str) -> bool:
        """Mark a code redeemed, once: False when another redemption got there first."""
        return (
            self._run(
                "UPDATE oauth_codes SET used_at = ?, link_id = ? WHERE code_hash = ? AND used_at IS NULL",
                time.time(),
                link_id,
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
            "INSERT INTO partner_links VALUES (?, ?, ?, ?, ?, ?, NULL)",
            link.id,
            client_id,
            agent_user_id,
            json.dumps(list(device_ids)),
            scope,
            link.created_at,
        )
        return link

    def link(self, link_id: str) -> Link | None:
        """One link, revoked or not."""
        rows = self._all("SELECT * FROM partner_links WHERE id = ?", link_id)
        return link_of(rows[0]) if rows else None

    def links(self, client_id: str | None = None) -> list[Link]:
        """Links, of one partner or all, oldest first."""
        if client_id is None:
            return [link_of(r) for r in self._all("SELECT * FROM partner_links ORDER BY created_at")]
        rows = self._all("SELECT * FROM partner_links WHERE client_id = ? ORDER BY created_at", client_id)
        return [link_of(r) for r in rows]

    def revoke_link(self, link_id: str) -> bool:
        """End a link and every token of it; False when there was no active link."""
        now = time.time()
        changed = self._run(
            "UPDATE partner_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, link_id
        )
        self._run(
            "UPDATE oauth_tokens SET revoked_at = ? WHERE link_id = ? AND revoked_at IS NULL", now, link_id
        )
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
            "INSERT INTO oauth_tokens (link_id, client_id, access_hash, refresh_hash, scope,"
            " access_expires_at, refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            link_id,
            client_id,
            digest(access),
            digest(refresh) if refresh else None,
            scope,
            now + access_s,
            now + refresh_s,
        )

    def by_access(self, access: str) -> TokenRecord | None:
        """The token record of an access token."""
        return self._token("access_hash", access)

    def by_refresh(self, refresh: str) -> TokenRecord | None:
        """The token record of a refresh token."""
        return self._token("refresh_hash", refresh)

    def _token(self, column: str, secret: str) -> TokenRecord | None:
        rows = self._all(f"SELECT * FROM oauth_tokens WHERE {column} = ?", digest(secret))
        return record_of(TokenRecord, rows[0]) if rows else None

    def claim_refresh(self, token_id: int) -> bool:
        """Retire a token pair whose refresh token is being exchanged, once. Its access token stays
        valid until it expires: partner clouds retry requests in flight with it."""
        return (
            self._run(
                "UPDATE oauth_tokens SET rotated_at = ?"
                " WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL",
                time.time(),
                token_id,
            )
            == 1
        )
