"""A process whose lease on a home is stale cannot write the home's routines or partner rows.

Real PostgreSQL, real lease table: process `a` holds a home's lease, its lease runs out, process
`b` takes the home over (a new epoch). Every write of `a`'s stores (routines, runs, marks,
partners, codes, links, tokens) is then refused with StorageFailed and leaves no row, as the hub's
own fenced writes are (tests/cluster/test_store_fencing.py), while `b` writes as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from oneteam.cluster.lease import LeaseTable
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.hub.group_commit import StorageFailed
from oneteam.interop.smarthome.records import CodeRecord, digest
from tests.cluster import tenant_fixtures

tenant_pg, tenants = tenant_fixtures.tenant_pg, tenant_fixtures.tenants

LEASE_S = 0.5


def test_writes_at_a_stale_epoch_are_refused_and_leave_nothing(tenants: TenantStores, tenant_pg: str) -> None:
    home = tenant_fixtures.new_home()
    first = LeaseTable(tenant_pg, "a", "http://a")

    async def hold() -> int:
        await first.open()
        try:
            lease = await first.acquire(home)
            assert lease is not None
            return lease.epoch
        finally:
            await first.close()

    current = asyncio.run(hold())
    # While the lease is ours, the fenced stores write as usual.
    routines = tenants.routines(home, epoch=current)
    routines.put_routine("r_ok", "routine", {"name": "ok"}, True, "api")
    assert [r.id for r in routines.routines()] == ["r_ok"]
    partners = tenants.partners(home, epoch=current)
    kept, _ = partners.add_partner("Kept", ["https://kept.example/cb"])
    link = partners.create_link(kept.client_id, "user-1", ("light_living",), "devices.read")

    # `a`'s lease runs out; another process takes the home over.
    stale, fresh = asyncio.run(_expire_and_take(tenant_pg, home))
    assert stale == current

    old_routines = tenants.routines(home, epoch=stale)
    refused: list[Callable[[], object]] = [
        lambda: old_routines.put_routine("r_late", "routine", {"name": "late"}, True, "api"),
        lambda: old_routines.set_enabled("r_ok", False),
        lambda: old_routines.delete_routine("r_ok"),
        lambda: old_routines.start_run("r_ok", {"kind": "manual"}),
        lambda: old_routines.set_mark("clock", 1.0),
    ]
    old_partners = tenants.partners(home, epoch=stale)
    refused += [
        lambda: old_partners.add_partner("Late", ["https://late.example/cb"]),
        lambda: old_partners.create_link(kept.client_id, "user-2", ("light_living",), "devices.read"),
        lambda: old_partners.revoke_link(link.id),
        lambda: old_partners.remove_partner(kept.client_id),
        lambda: old_partners.save_tokens(
            link.id, kept.client_id, "access", "refresh", "devices.read", 60, 600
        ),
        lambda: old_partners.save_code("code-1", _code(kept.client_id)),
    ]
    for write in refused:
        with pytest.raises(StorageFailed, match="no longer served here"):
            write()

    # Nothing the stale process tried is there; the new owner reads and writes as before.
    new_routines = tenants.routines(home, epoch=fresh)
    assert [(r.id, r.enabled) for r in new_routines.routines()] == [("r_ok", True)]
    assert new_routines.runs() == [] and new_routines.mark("clock") is None
    new_partners = tenants.partners(home, epoch=fresh)
    assert [p.name for p in new_partners.partners()] == ["Kept"]
    assert [(x.id, x.revoked_at) for x in new_partners.links()] == [(link.id, None)]
    assert new_partners.by_access("access") is None and new_partners.code("code-1") is None
    new_routines.set_mark("clock", 2.0)
    assert new_routines.mark("clock") == 2.0
    assert new_partners.revoke_link(link.id)
    # A store without an epoch (a lone hub, the CLI) is not fenced.
    tenants.routines(home).set_mark("unfenced", 3.0)
    assert new_routines.mark("unfenced") == 3.0


async def _expire_and_take(url: str, home: str) -> tuple[int, int]:
    """Shorten `a`'s lease to the past, then `b` takes the home over: (a's epoch, b's epoch)."""
    first = LeaseTable(url, "a", "http://a", lease_s=LEASE_S)
    await first.open()
    try:
        kept = await first.acquire(home)  # renews at a short length: it runs out soon
        assert kept is not None
    finally:
        await first.close()
    second = LeaseTable(url, "b", "http://b", lease_s=LEASE_S)
    await second.open()
    try:
        assert await second.acquire(home) is None  # a live lease is not taken
        await asyncio.sleep(LEASE_S + 0.3)
        taken = await second.acquire(home)
        assert taken is not None and taken.epoch == kept.epoch + 1
        return kept.epoch, taken.epoch
    finally:
        await second.close()


def _code(client_id: str) -> CodeRecord:
    return CodeRecord(
        code_hash=digest("code-1"),
        client_id=client_id,
        redirect_uri="https://kept.example/cb",
        scope="devices.read",
        code_challenge=None,
        code_challenge_method=None,
        agent_user_id="user-3",
        device_ids=("light_living",),
        expires_at=time.time() + 60,
        used_at=None,
        link_id=None,
    )
