"""The embedded broker's retained messages in a small SQLite file, so MQTT devices are back at once
after the hub restarts (as with Mosquitto's `persistence true`).

Only retained messages are kept. Sessions, subscriptions and queued QoS 1 messages are not: every
client connects again after a restart and subscribes again (ours and the devices' do), and a
QoS 1 message in flight is sent again by its publisher.

Write-behind: the broker marks each change (`put`); a task owned by the broker's Supervisor writes
the batch every `FLUSH_INTERVAL_S` in one transaction, and the broker writes the rest when it stops
cleanly. A power cut loses at most the last interval's changes, never half a batch. A store that
cannot be read (corrupt, not ours) is logged, set aside as `<name>.corrupt-<time>` and started
empty: a broken file never keeps the hub from starting.

The retained wills of connected clients are kept too, as due: a client connected when the broker
stopped lost its connection without DISCONNECT, so its will (a device's "offline") is applied at the
next start. A device that has not reconnected is then listed as offline, not with a stale "online".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

RETAINED_FILE = "mqtt-retained.sqlite3"
FLUSH_INTERVAL_S = 0.5
_SCHEMA_VERSION = 1

Message = tuple[bytes, int]
"""A retained message: payload and QoS."""
DueWill = tuple[str, bytes, int]
"""A connected client's retained will: topic, payload and QoS."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, qos INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS due_wills (topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL);
"""


def retained_path(data_dir: Path) -> Path:
    """The embedded broker's store in the hub's data folder (beside the hub's SQLite file)."""
    return data_dir / RETAINED_FILE


class RetainedStore:
    """Retained messages on disk: `load` once before the broker listens, then `put` every change."""

    def __init__(self, path: Path, *, interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        """One writer at a time: a cancelled flush's thread may still be writing when the next begins."""
        self._pending: dict[str, Message | None] = {}
        """Changes not written yet, by topic; None deletes."""
        self._wills_changed = False
        self._writing = 0
        """Changes being written now (by a flush's thread)."""
        self.written = 0
        """Changes written over the store's life."""

    # -- loading ------------------------------------------------------------------------------

    def load(self, limit: int) -> dict[str, Message]:
        """Open the file and read at most `limit` retained messages, the due wills applied (blocking:
        run it off the event loop). An unreadable file is logged, set aside and started empty."""
        try:
            return self._open_and_read(limit)
        except (sqlite3.Error, OSError) as exc:
            self._close_quietly()
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            _LOGGER.warning(
                "MQTT retained store %s is unreadable (%s): set aside as %s, starting empty",
                self.path,
                exc,
                aside.name,
            )
            try:
                self.path.rename(aside)
                return self._open_and_read(limit)
            except (sqlite3.Error, OSError) as again:
                self._close_quietly()
                _LOGGER.error(
                    "MQTT retained store %s cannot be used (%s): retained messages are kept in memory only",
                    self.path,
                    again,
                )
                return {}

    def _open_and_read(self, limit: int) -> dict[str, Message]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Used from worker threads (load, flushes), one at a time under the lock.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db = db
        # FULL: each batch is on disk when its COMMIT returns, and a power cut cannot damage the file
        # (NORMAL can in rollback-journal mode); at two commits a second the fsyncs cost little.
        db.execute("PRAGMA synchronous = FULL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, _SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"schema version {version}, expected {_SCHEMA_VERSION}")
        db.executescript(_SCHEMA)
        db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        retained: dict[str, Message] = {}
        skipped = 0
        for topic, payload, qos in db.execute("SELECT topic, payload, qos FROM retained"):
            if not _valid(topic, payload, qos) or len(retained) >= limit:
                skipped += 1
                continue
            retained[topic] = (payload, qos)
        wills = db.execute("SELECT topic, payload, qos FROM due_wills ORDER BY rowid").fetchall()
        applied: dict[str, Message | None] = {}
        for topic, payload, qos in wills:
            if not _valid(topic, payload, qos, empty=True):
                continue
            if not payload:  # MQTT 3.1.1 §3.3.1.3: an empty retained payload clears the topic
                retained.pop(topic, None)
                applied[topic] = None
            elif topic in retained or len(retained) < limit:
                retained[topic] = applied[topic] = (payload, qos)
        with self._lock:
            self._write(applied, [])  # the wills now stand as retained messages; none is due any more
        if skipped:
            _LOGGER.warning(
                "MQTT retained store %s: %d messages skipped (invalid or over the limit)", self.path, skipped
            )
        _LOGGER.info(
            "MQTT retained store %s: %d retained messages, %d due wills", self.path, len(retained), len(wills)
        )
        return retained

    # -- writing ------------------------------------------------------------------------------

    def put(self, topic: str, message: Message | None) -> None:
        """Note a change to write: a retained message kept, or (None) cleared."""
        if self._db is not None:
            self._pending[topic] = message

    def wills_changed(self) -> None:
        """A client with a retained will connected or left: the due wills are written again."""
        self._wills_changed = True

    @property
    def pending(self) -> int:
        """Changes not in the file yet: waiting for the next flush or being written."""
        return len(self._pending) + self._writing

    async def run(self, due_wills: Callable[[], Iterable[DueWill]]) -> None:
        """Write the changes every `interval_s` (the broker's supervised task)."""
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush(due_wills)

    async def flush(self, due_wills: Callable[[], Iterable[DueWill]]) -> None:
        """Write what changed in one transaction; on failure it stays queued for the next try."""
        if self._db is None or not (self._pending or self._wills_changed):
            return
        batch, self._pending = self._pending, {}
        wills = list(due_wills()) if self._wills_changed else None
        self._wills_changed = False
        self._writing = len(batch)
        try:
            await asyncio.to_thread(self._locked_write, batch, wills)
        except BaseException:
            # Not written (or cancelled mid-way): queued again under anything newer.
            self._pending = batch | self._pending
            self._wills_changed = self._wills_changed or wills is not None
            raise
        finally:
            self._writing = 0

    def _locked_write(self, batch: dict[str, Message | None], wills: list[DueWill] | None) -> None:
        with self._lock:
            self._write(batch, wills)

    def _write(self, batch: dict[str, Message | None], wills: list[DueWill] | None) -> None:
        db = self._db
        if db is None:
            return
        kept = [(topic, m[0], m[1]) for topic, m in batch.items() if m is not None]
        cleared = [(topic,) for topic, m in batch.items() if m is None]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO retained (topic, payload, qos) VALUES (?, ?, ?)", kept)
            db.executemany("DELETE FROM retained WHERE topic = ?", cleared)
            if wills is not None:
                db.execute("DELETE FROM due_wills")
                db.executemany("INSERT INTO due_wills (topic, payload, qos) VALUES (?, ?, ?)", wills)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have rolled back itself (a full disk, say)
                db.execute("ROLLBACK")
            raise
        self.written += len(batch)

    def close(self) -> None:
        """Close the file (after the last flush)."""
        with self._lock:
            self._close_quietly()

    def _close_quietly(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()


def _valid(topic: object, payload: object, qos: object, *, empty: bool = False) -> bool:
    """Whether a stored row is a message the broker can hold (a file edited or damaged by hand)."""
    return (
        isinstance(topic, str)
        and bool(topic)
        and isinstance(payload, bytes)
        and (empty or bool(payload))
        and qos in (0, 1)
    )
