"""Consent links, alerts and the audit log: SQLite tables beside the hub's own (prefix `epidemic_`).

A home hears about a person only through an explicit consent link between that person's
subscriber key and the home; revoking the link stops alerts at once. Every consent change and
every delivery is written to the audit log. Phone numbers are never stored: the link holds the
keyed hash (privacy.py) and the alerts hold only the link id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from oneteam.hub.sqlite_store import private_database
from oneteam.services.epidemic.errors import AlertNotFound, ConsentNotFound
from oneteam.services.epidemic.records import AlertRecord, AuditEntry, ConsentLink, NewAlert, consent_from_row

_LOGGER = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS epidemic_consent (
  id TEXT PRIMARY KEY,
  subscriber_key INTEGER NOT NULL,
  home_id TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT 'ko',
  created_at REAL NOT NULL,
  revoked_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS epidemic_consent_live
  ON epidemic_consent (subscriber_key, home_id) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS epidemic_alert (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  link_id TEXT NOT NULL REFERENCES epidemic_consent (id),
  home_id TEXT NOT NULL,
  alert_day TEXT NOT NULL,
  disease TEXT NOT NULL,
  country TEXT NOT NULL,
  watch_until REAL NOT NULL,
  payload_id TEXT NOT NULL REFERENCES epidemic_alert_payload (id),
  created_at REAL NOT NULL,
  delivered_at REAL,
  event_id INTEGER,
  UNIQUE (link_id, alert_day)
);
CREATE TABLE IF NOT EXISTS epidemic_alert_payload (
  id TEXT PRIMARY KEY,
  payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS epidemic_alert_home ON epidemic_alert (home_id, id);
CREATE TABLE IF NOT EXISTS epidemic_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  action TEXT NOT NULL,
  link_id TEXT,
  home_id TEXT,
  alert_id INTEGER,
  detail TEXT NOT NULL DEFAULT ''
);
"""


class EpidemicStore:
    """The epidemic tables in one SQLite file (usually the hub's `<data_dir>/oneteam.sqlite3`)."""

    def __init__(self, path: Path) -> None:
        private_database(path)  # owner-only, like the hub's own opening of this file
        # One connection guarded by a lock: API handlers reach it from worker threads.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _audit(
        self,
        db: sqlite3.Connection,
        action: str,
        *,
        link_id: str | None = None,
        home_id: str | None = None,
        alert_id: int | None = None,
        detail: str = "",
    ) -> None:
        db.execute(
            "INSERT INTO epidemic_audit (at, action, link_id, home_id, alert_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), action, link_id, home_id, alert_id, detail),
        )

    def link(
        self, *, subscriber_key: int, home_id: str, label: str = "", language: str = "ko"
    ) -> ConsentLink:
        """Create a consent link, or return the live one for the same person and home."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM epidemic_consent"
                " WHERE subscriber_key = ? AND home_id = ? AND revoked_at IS NULL",
                (subscriber_key, home_id),
            ).fetchone()
            if row is not None:
                link_id = str(row[0])
            else:
                link_id = "cl_" + secrets.token_urlsafe(12)
                db.execute(
                    "INSERT INTO epidemic_consent (id, subscriber_key, home_id, label, language, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (link_id, subscriber_key, home_id, label, language, time.time()),
                )
                self._audit(db, "consent_granted", link_id=link_id, home_id=home_id)
        return self.consent(link_id)

    def link_many(self, subscriber_keys: Sequence[int], *, home_ids: Sequence[str]) -> int:
        """Import many consent links at once (an operator moving an existing opt-in list); each
        import is one audit line. Returns how many links were new."""
        now = time.time()
        rows = [
            ("cl_" + secrets.token_urlsafe(12), key, home, now)
            for key, home in zip(subscriber_keys, home_ids, strict=True)
        ]
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO epidemic_consent (id, subscriber_key, home_id, created_at)"
                " VALUES (?, ?, ?, ?)",
                rows,
            )
            added = db.total_changes - before
            self._audit(db, "consent_imported", detail=f"links={added}")
        return added

    def revoke(self, link_id: str) -> ConsentLink:
        """Revoke a consent link; alerts stop from the next run on (already revoked: unchanged)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE epidemic_consent SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), link_id),
            ).rowcount
            if changed:
                home = db.execute("SELECT home_id FROM epidemic_consent WHERE id = ?", (link_id,)).fetchone()
                self._audit(db, "consent_revoked", link_id=link_id, home_id=str(home[0]))
        return self.consent(link_id)

    def consent(self, link_id: str) -> ConsentLink:
        """One consent link."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, home_id, label, language, created_at, revoked_at FROM epidemic_consent"
                " WHERE id = ?",
                (link_id,),
            ).fetchone()
        if row is None:
            raise ConsentNotFound(link_id)
        return consent_from_row(row)

    def consents(self, *, home_id: str | None = None, include_revoked: bool = False) -> list[ConsentLink]:
        """Consent links, oldest first."""
        clauses, params = [], []
        if home_id is not None:
            clauses.append("home_id = ?")
            params.append(home_id)
        if not include_revoked:
            clauses.append("revoked_at IS NULL")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, home_id, label, language, created_at, revoked_at FROM epidemic_consent"
                f"{where} ORDER BY created_at, id",
                params,
            ).fetchall()
        return [consent_from_row(row) for row in rows]

    def live_keys(self) -> list[tuple[str, int, str, str]]:
        """(link id, subscriber key, label, language) of every live link: what the alert query joins on."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, subscriber_key, label, language FROM epidemic_consent"
                " WHERE revoked_at IS NULL ORDER BY id"
            ).fetchall()
        return [(str(link), int(key), str(label), str(language)) for link, key, label, language in rows]

    def add_alerts(self, alerts: Sequence[NewAlert], day: dt.date) -> int:
        """Queue alerts for `day`: one per link and day; a link revoked meanwhile gets none.
        Returns how many alerts are new (the rest were already queued today)."""
        now = time.time()
        with self._transaction() as db:
            # Thousands of alerts say the same few things (same disease, country, day, label):
            # each distinct payload is stored once, under the hash of its text.
            payload_ids: dict[int, str] = {}
            payloads: dict[str, str] = {}
            rows = []
            for new in alerts:
                payload_id = payload_ids.get(id(new.payload))
                if payload_id is None:
                    text = json.dumps(new.payload, ensure_ascii=False, sort_keys=True)
                    payload_id = hashlib.sha256(text.encode()).hexdigest()[:32]
                    payload_ids[id(new.payload)] = payload_id
                    payloads[payload_id] = text
                rows.append(
                    (day.isoformat(), new.disease, new.country, new.watch_until, payload_id, now, new.link_id)
                )
            db.executemany(
                "INSERT OR IGNORE INTO epidemic_alert_payload (id, payload) VALUES (?, ?)",
                list(payloads.items()),
            )
            before = db.total_changes
            db.executemany(
                # The home comes from the link as it is now: a link revoked during the run gets nothing.
                "INSERT OR IGNORE INTO epidemic_alert"
                " (link_id, home_id, alert_day, disease, country, watch_until, payload_id, created_at)"
                " SELECT id, home_id, ?, ?, ?, ?, ?, ? FROM epidemic_consent"
                " WHERE id = ? AND revoked_at IS NULL",
                rows,
            )
            added = db.total_changes - before
            if added:
                self._audit(db, "alerts_queued", detail=f"day={day.isoformat()} alerts={added}")
        return added

    def pending(self) -> list[AlertRecord]:
        """Alerts not delivered yet, oldest first."""
        return self._alerts("WHERE a.delivered_at IS NULL ORDER BY a.id", ())

    def mark_delivered(self, alert_id: int, event_id: int, device_id: str | None) -> None:
        """Record that an alert reached the home (and which event carried it)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE epidemic_alert SET delivered_at = ?, event_id = ? WHERE id = ?",
                (time.time(), event_id, alert_id),
            )
            row = db.execute(
                "SELECT link_id, home_id FROM epidemic_alert WHERE id = ?", (alert_id,)
            ).fetchone()
            self._audit(
                db,
                "alert_delivered",
                link_id=str(row[0]),
                home_id=str(row[1]),
                alert_id=alert_id,
                detail=f"event={event_id} device={device_id or '-'}",
            )

    def alert(self, alert_id: int) -> AlertRecord:
        """One alert."""
        found = self._alerts("WHERE a.id = ?", (alert_id,))
        if not found:
            raise AlertNotFound(alert_id)
        return found[0]

    def alerts(self, *, home_id: str | None = None, limit: int = 100) -> list[AlertRecord]:
        """Alerts, newest first."""
        if home_id is None:
            return self._alerts("ORDER BY a.id DESC LIMIT ?", (limit,))
        return self._alerts("WHERE a.home_id = ? ORDER BY a.id DESC LIMIT ?", (home_id, limit))

    def _alerts(self, tail: str, params: tuple[object, ...]) -> list[AlertRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT a.id, a.link_id, a.home_id, a.alert_day, a.disease, a.country, a.watch_until,"
                " p.payload, a.created_at, a.delivered_at, a.event_id"
                f" FROM epidemic_alert AS a JOIN epidemic_alert_payload AS p ON p.id = a.payload_id {tail}",
                params,
            ).fetchall()
        return [
            AlertRecord(
                id=int(r[0]),
                link_id=str(r[1]),
                home_id=str(r[2]),
                alert_day=str(r[3]),
                disease=str(r[4]),
                country=str(r[5]),
                watch_until=float(r[6]),
                payload=json.loads(r[7]),
                created_at=float(r[8]),
                delivered_at=None if r[9] is None else float(r[9]),
                event_id=None if r[10] is None else int(r[10]),
            )
            for r in rows
        ]

    def audit_log(self, *, limit: int = 1000) -> list[AuditEntry]:
        """The audit log, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, action, link_id, home_id, alert_id, detail FROM epidemic_audit"
                " ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            AuditEntry(
                id=int(r[0]),
                at=float(r[1]),
                action=str(r[2]),
                link_id=r[3],
                home_id=r[4],
                alert_id=r[5],
                detail=str(r[6]),
            )
            for r in rows
        ]

    def audit(self, action: str, detail: str) -> None:
        """Write one audit line that concerns no single link (a run, a retention pass)."""
        with self._transaction() as db:
            self._audit(db, action, detail=detail)
