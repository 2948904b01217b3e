"""The partner door's stored records: a registered partner cloud (`Partner`), one person's account
link (`Link`, with `ALL_DEVICES`), an authorization code and a token pair as kept (`CodeRecord`,
`TokenRecord`), how a secret is kept (`digest`, SHA-256), how a new partner is made and stored
(`new_partner`, `partner_row`) and how a row becomes a record, written once for store.py (SQLite)
and store_pg.py (PostgreSQL); the OAuth server and fulfillment work with them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeAlias, TypeVar

ALL_DEVICES = "*"
"""A link's device list that covers every device, including ones added later."""


def digest(secret: str) -> str:
    """The stored form of a secret, code or token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Partner:
    """A partner cloud registered with this hub."""

    client_id: str
    name: str
    secret_hash: str
    redirect_uris: tuple[str, ...]
    """Exact redirect URIs; anything else is refused (no prefix or pattern match)."""
    scopes: tuple[str, ...]
    rate_per_minute: int
    report_url: str | None
    """Where report-state pushes go (HTTPS, or loopback http for local tests)."""
    report_key: str
    """HMAC-SHA256 key the pushes are signed with (shared with the partner once, at `partners add`)."""
    pkce_required: bool = True
    """False only for a partner registered explicitly as a confidential client without PKCE (some
    smart-home clouds send no code_challenge); it still authenticates with its secret."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """One person's account linked to one partner: which devices it covers."""

    id: str
    client_id: str
    agent_user_id: str
    device_ids: tuple[str, ...]
    scope: str
    created_at: float
    revoked_at: float | None = None

    def covers(self, device_id: str) -> bool:
        """Whether the partner may see and drive this device."""
        return ALL_DEVICES in self.device_ids or device_id in self.device_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeRecord:
    """An authorization code as stored (its hash, never the code)."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    agent_user_id: str
    device_ids: tuple[str, ...]
    expires_at: float
    used_at: float | None
    link_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """An access/refresh token pair as stored."""

    id: int
    link_id: str
    client_id: str
    scope: str
    access_expires_at: float
    refresh_expires_at: float
    rotated_at: float | None
    revoked_at: float | None


_Record = TypeVar("_Record", Partner, Link, CodeRecord, TokenRecord)
Row: TypeAlias = sqlite3.Row | Mapping[str, Any]
"""A stored row by column name: SQLite's, or PostgreSQL's as a dict (store_pg.py)."""


def record_of(kind: type[_Record], row: Row, **converted: Any) -> _Record:
    """A record from its row: each field from the column of its name, except those passed in
    `converted` (JSON lists, split scopes, an unsealed key); columns without a field are ignored."""
    return kind(**{f.name: converted[f.name] if f.name in converted else row[f.name] for f in fields(kind)})


def partner_of(row: Row, report_key: str) -> Partner:
    return record_of(
        Partner,
        row,
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        scopes=tuple(row["scopes"].split()),
        report_key=report_key,
        pkce_required=bool(row["pkce_required"]),
    )


def code_of(row: Row) -> CodeRecord:
    return record_of(CodeRecord, row, device_ids=tuple(json.loads(row["device_ids"])))


CODE_COLUMNS = (
    "code_hash, client_id, redirect_uri, scope, code_challenge, code_challenge_method, agent_user_id,"
    " device_ids, expires_at"
)
"""The columns `code_row` fills, in its order (a new code is neither used nor linked yet)."""


def code_row(code: str, record: CodeRecord) -> tuple[Any, ...]:
    """An issued code's values for CODE_COLUMNS: its digest, never the code."""
    return (
        digest(code),
        record.client_id,
        record.redirect_uri,
        record.scope,
        record.code_challenge,
        record.code_challenge_method,
        record.agent_user_id,
        json.dumps(list(record.device_ids)),
        record.expires_at,
    )


def link_of(row: Row) -> Link:
    return record_of(Link, row, device_ids=tuple(json.loads(row["device_ids"])))


PARTNER_COLUMNS = (
    "client_id, name, secret_hash, redirect_uris, scopes, rate_per_minute, report_url, report_key,"
    " created_at, pkce_required"
)
"""The columns `partner_row` fills, in its order."""


def new_partner(
    name: str,
    redirect_uris: list[str],
    *,
    scopes: tuple[str, ...],
    rate_per_minute: int,
    report_url: str | None,
    pkce_required: bool,
) -> tuple[Partner, str]:
    """A partner with a fresh client id and report-signing key, and its client secret (shown once,
    stored only as its digest)."""
    secret = secrets.token_urlsafe(32)
    partner = Partner(
        client_id="p_" + secrets.token_hex(8),
        name=name,
        secret_hash=digest(secret),
        redirect_uris=tuple(redirect_uris),
        scopes=scopes,
        rate_per_minute=rate_per_minute,
        report_url=report_url,
        report_key=secrets.token_urlsafe(32),
        pkce_required=pkce_required,
    )
    return partner, secret


def partner_row(partner: Partner, sealed_key: str) -> tuple[Any, ...]:
    """A new partner's values for PARTNER_COLUMNS (its report key sealed by the store)."""
    return (
        partner.client_id,
        partner.name,
        partner.secret_hash,
        json.dumps(list(partner.redirect_uris)),
        " ".join(partner.scopes),
        partner.rate_per_minute,
        partner.report_url,
        sealed_key,
        time.time(),
        partner.pkce_required,
    )
