"""The partner door's partners, links, codes and tokens of many homes in one real PostgreSQL.

The store contract runs on SQLite and PostgreSQL alike; the account-linking attacks of
tests/interop/smarthome/test_oauth.py run again on a door whose store is one home's rows in
PostgreSQL; and two homes served side by side cannot use each other's partners, codes, tokens or
links, nor open each other's sealed signing keys.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path

import httpx
import psycopg
import pytest

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.cluster.pgschema import SCHEMA, connection_options
from oneteam.cluster.tenant_stores import TenantStores
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.interop.smarthome import SmartHomeService
from oneteam.interop.smarthome.records import CodeRecord, digest
from oneteam.interop.smarthome.sealed import SealedKeyError
from oneteam.interop.smarthome.store import PartnerStorage, PartnerStore
from tests.cluster import tenant_fixtures
from tests.interop.smarthome.conftest import (
    DEMO_HOME,
    Door,
    PartnerEndpoint,
    Pkce,
    Serve,
    authorize_params,
    get_code,
    intent,
    link_account,
)
from tests.interop.smarthome.test_oauth import (  # noqa: F401  (run again here, on PostgreSQL)
    test_a_revoked_hub_token_ends_the_consent_session,
    test_another_partners_credentials_cannot_use_a_refresh_token,
    test_denied_consent_redirects_access_denied,
    test_expired_access_token_is_401,
    test_foreign_partners_code_cannot_be_redeemed,
    test_missing_or_forged_token_is_401,
    test_refresh_rotates_and_a_reused_refresh_token_ends_the_link,
    test_replayed_code_is_invalid_grant_and_revokes_what_it_issued,
    test_tokens_of_a_removed_partner_are_401,
    test_unknown_client_is_invalid_client_on_the_page,
    test_wrong_client_secret_is_invalid_client,
    test_wrong_pkce_verifier_is_invalid_grant,
)

tenant_pg, tenants = tenant_fixtures.tenant_pg, tenant_fixtures.tenants
new_home = tenant_fixtures.new_home


async def _door(tmp_path: Path, store: PartnerStorage) -> AsyncGenerator[Door, None]:
    """A hub with the demo home's virtual appliances and its API with the partner door over `store`."""
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    endpoint = PartnerEndpoint()
    async with hub:
        token = await hub.create_token("test")
        async with SmartHomeService(hub, store, report_batch_window_s=0.05, report_backoff_s=0.05) as service:
            app = create_app(
                hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
            )
            app.state.smarthome = service
            async with Serve(app) as api, Serve(endpoint.app()) as partner_side:
                yield Door(hub, api.url, token, service, endpoint, partner_side.url)


@pytest.fixture
async def door(tmp_path: Path, tenants: TenantStores) -> AsyncIterator[Door]:
    """The door the imported tests drive: its store is one home's rows in PostgreSQL."""
    async for opened in _door(tmp_path, tenants.partners(new_home())):
        yield opened


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], PartnerStorage]:
    if request.param == "sqlite":
        return lambda: PartnerStore(tmp_path / "hub.sqlite3")
    stores: TenantStores = request.getfixturevalue("tenants")
    home = new_home()
    return lambda: stores.partners(home)


def _code(client_id: str, link: str = "") -> CodeRecord:
    return CodeRecord(
        code_hash="",
        client_id=client_id,
        redirect_uri="https://partner.example/cb",
        scope="devices.read",
        code_challenge="c" * 43,
        code_challenge_method="S256",
        agent_user_id="mina",
        device_ids=("tv", "ac_living"),
        expires_at=time.time() + 60,
        used_at=None,
        link_id=link or None,
    )


def test_partners_codes_links_and_tokens_behave_alike(make_store: Callable[[], PartnerStorage]) -> None:
    store = make_store()
    try:
        partner, secret = store.add_partner(
            "GiGA Genie", ["https://partner.example/cb"], rate_per_minute=30, pkce_required=False
        )
        assert store.partner(partner.client_id) == partner and partner.secret_hash == digest(secret)
        assert [p.client_id for p in store.partners()] == [partner.client_id]
        assert store.partner("p_nobody") is None
        version = store.version

        store.save_code("the-code", _code(partner.client_id))
        code = store.code("the-code")
        assert code is not None and code.device_ids == ("tv", "ac_living") and code.used_at is None
        assert code.code_hash == digest("the-code") and store.code("other") is None
        link = store.create_link(partner.client_id, "mina", ("tv",), "devices.read")
        assert store.claim_code(code.code_hash, link.id) and not store.claim_code(code.code_hash, link.id)
        claimed = store.code("the-code")
        assert claimed is not None and claimed.link_id == link.id and claimed.used_at is not None
        assert store.version > version

        store.save_tokens(link.id, partner.client_id, "acc-1", "ref-1", "devices.read", 60, 600)
        token = store.by_access("acc-1")
        assert token is not None and token == store.by_refresh("ref-1") and token.link_id == link.id
        assert store.by_access("ref-1") is None and store.by_refresh("acc-1") is None
        assert store.claim_refresh(token.id) and not store.claim_refresh(token.id)

        assert store.link(link.id) == link and [x.id for x in store.links(partner.client_id)] == [link.id]
        assert store.links("p_nobody") == []
        assert store.revoke_link(link.id) and not store.revoke_link(link.id)
        revoked = store.by_access("acc-1")
        assert revoked is not None and revoked.revoked_at is not None

        second = store.create_link(partner.client_id, "joon", ("*",), "devices.read devices.control")
        store.save_tokens(second.id, partner.client_id, "acc-2", None, "devices.read", 60, 600)
        assert store.remove_partner(partner.client_id) == 1
        assert store.remove_partner(partner.client_id) is None
        gone = store.by_access("acc-2")
        assert store.partners() == [] and gone is not None and gone.revoked_at is not None
    finally:
        store.close()


def test_two_homes_share_no_partner_code_link_or_token(tenants: TenantStores) -> None:
    a, b = tenants.partners(new_home()), tenants.partners(new_home())
    partner, _ = a.add_partner("GiGA Genie", ["https://partner.example/cb"])
    a.save_code("code-a", _code(partner.client_id))
    link = a.create_link(partner.client_id, "mina", ("*",), "devices.read")
    a.save_tokens(link.id, partner.client_id, "acc-a", "ref-a", "devices.read", 60, 600)
    token = a.by_access("acc-a")
    assert token is not None

    assert b.partner(partner.client_id) is None and b.partners() == []
    assert b.code("code-a") is None and b.link(link.id) is None and b.links() == []
    assert b.by_access("acc-a") is None and b.by_refresh("ref-a") is None
    # B's writes that name A's rows change nothing of A's.
    assert not b.claim_code(digest("code-a"), "l_x") and not b.claim_refresh(token.id)
    assert not b.revoke_link(link.id) and b.remove_partner(partner.client_id) is None
    kept = a.by_access("acc-a")
    assert kept is not None and kept.rotated_at is None and kept.revoked_at is None
    code = a.code("code-a")
    assert code is not None and code.used_at is None and a.partner(partner.client_id) is not None


def test_a_sealed_key_copied_to_another_home_does_not_open(tenants: TenantStores, tenant_pg: str) -> None:
    home_a, home_b = new_home(), new_home()
    a = tenants.partners(home_a)
    partner, _ = a.add_partner("GiGA Genie", ["https://partner.example/cb"])
    with psycopg.connect(tenant_pg, **connection_options()) as connection:
        stored = connection.execute(
            "SELECT report_key FROM partner_clients WHERE home_id = %s", (home_a,)
        ).fetchone()
        assert stored is not None and partner.report_key not in stored[0]  # sealed, not plain
        connection.execute(
            "INSERT INTO partner_clients SELECT %s, client_id, name, secret_hash, redirect_uris, scopes,"
            " rate_per_minute, report_url, report_key, created_at, pkce_required FROM partner_clients"
            " WHERE home_id = %s",
            (home_b, home_a),
        )
    with pytest.raises(SealedKeyError):
        tenants.partners(home_b).partner(partner.client_id)
    assert tenants.partners(home_a).partner(partner.client_id) == partner


async def test_only_hashes_of_secrets_codes_and_tokens_are_in_postgres(door: Door, tenant_pg: str) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
    with psycopg.connect(tenant_pg, **connection_options()) as connection:
        dump = "".join(
            str(connection.execute(f"SELECT * FROM {t}").fetchall())
            for t in ("partner_clients", "partner_links", "oauth_codes", "oauth_tokens")
        )
    assert digest(tokens["access_token"]) in dump and digest(secret) in dump
    for plain in (secret, tokens["access_token"], tokens["refresh_token"], partner.report_key):
        assert plain not in dump


def test_the_partner_tables_are_hash_partitioned_by_home(tenants: TenantStores, tenant_pg: str) -> None:
    with psycopg.connect(tenant_pg, **connection_options()) as connection:
        rows = connection.execute(
            "SELECT c.relname, pg_get_partkeydef(c.oid),"
            " (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s"
            " AND (c.relname LIKE 'partner_%%' OR c.relname LIKE 'oauth_%%') AND c.relkind = 'p' ORDER BY 1",
            (SCHEMA,),
        ).fetchall()
    assert [r[0] for r in rows] == [
        "oauth_codes",
        "oauth_tokens",
        "partner_clients",
        "partner_links",
        "partner_service_accounts",
    ]
    assert all(r[1] == "HASH (home_id)" and r[2] == tenants.partitions for r in rows)


async def test_a_code_and_tokens_of_one_home_are_refused_at_another(
    tmp_path: Path, tenants: TenantStores
) -> None:
    """Two homes' doors on one process's stores: what home A issued gets nothing at home B."""
    home_a, home_b = new_home(), new_home()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    doors_a = _door(tmp_path / "a", tenants.partners(home_a))
    doors_b = _door(tmp_path / "b", tenants.partners(home_b))
    door_a, door_b = await anext(doors_a), await anext(doors_b)
    try:
        partner, secret = door_a.add_partner()
        # Each flow its own client: consent sessions are cookies, and both doors are on 127.0.0.1.
        async with httpx.AsyncClient() as first, httpx.AsyncClient() as second:
            tokens = await link_account(first, door_a, partner, secret)
            pkce = Pkce()
            params = authorize_params(partner, pkce)
            code, _ = await get_code(second, door_a, params)  # issued at A, not yet redeemed
        async with httpx.AsyncClient() as client:
            at_a = await client.post(
                f"{door_a.url}/api/smarthome/fulfillment",
                json=intent("SYNC"),
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            at_b = await client.post(
                f"{door_b.url}/api/smarthome/fulfillment",
                json=intent("SYNC"),
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            consent_b = await client.get(f"{door_b.url}/oauth/authorize", params=params)
            exchange = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": pkce.verifier,
            }
            code_b = await client.post(
                f"{door_b.url}/oauth/token", data=exchange, auth=(partner.client_id, secret)
            )
            refresh_b = await client.post(
                f"{door_b.url}/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                auth=(partner.client_id, secret),
            )
            code_a = await client.post(
                f"{door_a.url}/oauth/token", data=exchange, auth=(partner.client_id, secret)
            )
        assert at_a.status_code == 200 and at_a.json()["payload"]["devices"]
        assert at_b.status_code == 401
        assert consent_b.status_code == 400 and "invalid_client" in consent_b.text
        assert code_b.status_code == 401 and code_b.json()["error"] == "invalid_client"
        assert refresh_b.status_code == 401 and refresh_b.json()["error"] == "invalid_client"
        assert code_a.status_code == 200  # B's refusals did not spend A's code
        assert door_b.service.store.links() == [] and len(door_a.service.store.links()) == 2
    finally:
        for doors in (doors_b, doors_a):
            await doors.aclose()
