"""A hub that kept routines and partners in its SQLite file, started on PostgreSQL, takes them
along once: the same routines, runs, marks, partners (keys opening), links and tokens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oneteam.automation.store import AutomationStore
from oneteam.cluster.tenant_import import IMPORTED_MARK, import_sqlite
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.interop.smarthome.store import PartnerStore
from tests.cluster import tenant_fixtures

tenant_pg = tenant_fixtures.tenant_pg


async def test_the_sqlite_side_tables_are_copied_once(tmp_path: Path, tenant_pg: str) -> None:
    database = tmp_path / "oneteam.sqlite3"
    routines = AutomationStore(database)
    routines.open()
    body = {"id": "night", "triggers": [{"at": "23:00"}], "actions": [{"delay": 60}, {"scene": "sleep"}]}
    routines.put_routine("night", "routine", body, True, "api", owner={"principal": "member:mina"})
    waiting = routines.start_run("night", {"kind": "time"})
    waiting.step, waiting.resume_at = 1, 1_900_000_000.0
    routines.save_run(waiting)
    routines.set_mark("presets:ko", 1.0)
    routines.close()
    partners = PartnerStore(database)
    partner, _ = partners.add_partner("GiGA Genie", ["https://partner.example/cb"], report_url=None)
    link = partners.create_link(partner.client_id, "mina", ("tv",), "devices.read")
    partners.save_tokens(link.id, partner.client_id, "old-access", "old-refresh", "devices.read", 3600, 86400)
    partners.close()

    stores = TenantStores.beside(tenant_pg, tmp_path)  # the same data folder, so the same partners.key
    await stores.open()
    try:
        home = tenant_fixtures.new_home()
        counts = import_sqlite(database, stores, home)
        assert counts is not None and counts["automation_routines"] == 1 and counts["oauth_tokens"] == 1
        assert import_sqlite(database, stores, home) is None  # once

        moved = stores.routines(home)
        assert [(r.id, r.body, r.owner) for r in moved.routines()] == [
            ("night", body, {"principal": "member:mina"})
        ]
        resumed = moved.runs(status="running")
        assert len(resumed) == 1 and resumed[0].step == 1 and resumed[0].resume_at == 1_900_000_000.0
        assert moved.mark("presets:ko") == 1.0 and moved.mark(IMPORTED_MARK) is not None

        door = stores.partners(home)
        again = door.partner(partner.client_id)
        assert again == partner  # the same client id, secret hash and (opened) signing key
        assert door.link(link.id) == link
        token = door.by_access("old-access")
        assert token is not None and token.link_id == link.id and door.by_refresh("old-refresh") == token
        # Another home got nothing of it.
        assert stores.partners(tenant_fixtures.new_home()).partner(partner.client_id) is None
    finally:
        await stores.close()


async def test_no_file_or_no_side_tables_is_nothing_to_do(tmp_path: Path, tenant_pg: str) -> None:
    stores = TenantStores.beside(tenant_pg, tmp_path)
    await stores.open()
    try:
        assert import_sqlite(tmp_path / "missing.sqlite3", stores, tenant_fixtures.new_home()) is None
        empty = tmp_path / "empty.sqlite3"
        sqlite3.connect(empty).close()
        assert import_sqlite(empty, stores, tenant_fixtures.new_home()) is None
    finally:
        await stores.close()
