"""Partners' report-signing keys never sit in the SQLite file in plain text."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from oneteam.hub import SqliteStorage
from oneteam.interop.smarthome.report_state import sign, verify
from oneteam.interop.smarthome.sealed import KEY_FILE_NAME, SealedKeyError
from oneteam.interop.smarthome.store import PartnerStore


def _file_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_the_database_does_not_hold_the_signing_key(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    store = PartnerStore(db)
    try:
        partner, _ = store.add_partner("GiGA Genie", ["https://partner.example/cb"])
        assert store.partner(partner.client_id) == partner  # read back: the plain key, opened
    finally:
        store.close()
    assert partner.report_key.encode() not in _file_bytes(db)
    key_file = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    body = b'{"devices": {}}'
    reopened = PartnerStore(db)
    try:
        again = reopened.partner(partner.client_id)
    finally:
        reopened.close()
    assert again is not None and verify(
        partner.report_key, body, sign(again.report_key, body, 1000), now=1000
    )


def test_a_plain_key_from_an_older_hub_is_sealed_and_scrubbed_on_open(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    store = PartnerStore(db)
    partner, _ = store.add_partner("Old Partner", ["https://partner.example/cb"])
    store.close()
    old_key = "plain-" + "k" * 40  # what an older oneteam left in the row
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE partner_clients SET report_key = ?", (old_key,))
    raw.close()
    assert old_key.encode() in _file_bytes(db)
    store = PartnerStore(db)
    try:
        migrated = store.partner(partner.client_id)
    finally:
        store.close()
    assert migrated is not None and migrated.report_key == old_key  # partners keep their key
    assert old_key.encode() not in _file_bytes(db)


def test_a_replaced_key_file_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    store = PartnerStore(db)
    partner, _ = store.add_partner("GiGA Genie", ["https://partner.example/cb"])
    store.close()
    (tmp_path / KEY_FILE_NAME).write_text("00" * 32 + "\n", encoding="ascii")
    store = PartnerStore(db)
    try:
        with pytest.raises(SealedKeyError, match=KEY_FILE_NAME):
            store.partner(partner.client_id)
    finally:
        store.close()


async def test_the_hub_storage_and_the_partner_store_share_one_private_file(tmp_path: Path) -> None:
    db = tmp_path / "oneteam.sqlite3"
    storage = SqliteStorage(db)
    await storage.open()
    try:
        PartnerStore(db).close()
    finally:
        await storage.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
