"""Account linking under attack: every refusal is the error RFC 6749 / 7636 / 6750 names."""

from __future__ import annotations

import asyncio
import sqlite3
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from oneteam.interop.smarthome.store import PartnerStore
from tests.interop.smarthome.conftest import (
    FORM,
    Door,
    Pkce,
    authorize_params,
    get_code,
    intent,
    link_account,
    read_form,
    signed_in_page,
)


async def _token(client: httpx.AsyncClient, door: Door, auth: tuple[str, str], **data: str) -> httpx.Response:
    return await client.post(f"{door.url}/oauth/token", data=data, auth=auth)


async def test_only_hashes_of_secrets_codes_and_tokens_are_stored(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
    store = door.service.store
    assert isinstance(store, PartnerStore)  # this door's registry is the SQLite one
    dump = "\n".join(sqlite3.connect(store.path).iterdump())
    for plain in (secret, tokens["access_token"], tokens["refresh_token"]):
        assert plain not in dump


async def test_replayed_code_is_invalid_grant_and_revokes_what_it_issued(door: Door) -> None:
    partner, secret = door.add_partner()
    pkce = Pkce()
    params = authorize_params(partner, pkce)
    async with httpx.AsyncClient() as client:
        code, _ = await get_code(client, door, params)
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"]}
        first = await _token(
            client, door, (partner.client_id, secret), **exchange, code_verifier=pkce.verifier
        )
        assert first.status_code == 200
        replay = await _token(
            client, door, (partner.client_id, secret), **exchange, code_verifier=pkce.verifier
        )
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        used = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {first.json()['access_token']}"},
        )
        assert used.status_code == 401


async def test_wrong_pkce_verifier_is_invalid_grant(door: Door) -> None:
    partner, secret = door.add_partner()
    params = authorize_params(partner, Pkce())
    async with httpx.AsyncClient() as client:
        code, _ = await get_code(client, door, params)
        answer = await _token(
            client,
            door,
            (partner.client_id, secret),
            grant_type="authorization_code",
            code=code,
            redirect_uri=params["redirect_uri"],
            code_verifier=Pkce().verifier,
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://partner.example/link/callback/extra",  # extra path
        "https://partner.example:8443/link/callback",  # other port
        "https://partner.example.evil.test/link/callback",  # look-alike host
        "https://partner.example/link/callback?next=https://evil.test",  # open redirect
        "https://evil.test/link/callback",
    ],
)
async def test_unregistered_redirect_uri_is_shown_not_followed(door: Door, redirect_uri: str) -> None:
    partner, _ = door.add_partner()
    params = authorize_params(partner, Pkce(), redirect_uri=redirect_uri)
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params)
    # RFC 6749 §4.1.2.1: never redirect to an unverified URI; tell the person instead.
    assert page.status_code == 400 and "location" not in page.headers
    assert "invalid_request" in page.text


async def test_unknown_client_is_invalid_client_on_the_page(door: Door) -> None:
    partner, _ = door.add_partner()
    params = authorize_params(partner, Pkce(), client_id="p_nobody")
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params)
    assert page.status_code == 400 and "invalid_client" in page.text


@pytest.mark.parametrize("change", [{"code_challenge_method": "plain"}, {"code_challenge": ""}])
async def test_missing_or_plain_pkce_is_redirected_as_invalid_request(
    door: Door, change: dict[str, str]
) -> None:
    partner, _ = door.add_partner()
    params = {k: v for k, v in authorize_params(partner, Pkce(), **change).items() if v}
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params)
    assert page.status_code == 302
    query = parse_qs(urlsplit(page.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == [params["state"]]


async def test_denied_consent_redirects_access_denied(door: Door) -> None:
    partner, _ = door.add_partner()
    params = authorize_params(partner, Pkce())
    async with httpx.AsyncClient() as client:
        form = read_form((await signed_in_page(client, door, params)).text)
        answer = await client.post(
            form.action, content=urlencode([*form.fields, ("decision", "deny")]), headers=FORM
        )
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["access_denied"]


async def test_consent_shows_the_home_only_after_signing_in(door: Door) -> None:
    """Knowing a client id is not enough to see the home's name and devices, or to approve."""
    partner, _ = door.add_partner()
    params = authorize_params(partner, Pkce())
    korean = {"Accept-Language": "ko"}
    home_name = door.hub.home.name or door.hub.home.id
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params, headers=korean)
        assert page.status_code == 200 and partner.name in page.text
        assert (
            "거실 에어컨" not in page.text and home_name not in page.text and "연결할 기기" not in page.text
        )
        signin = read_form(page.text)
        wrong = await client.post(
            signin.action,
            content=urlencode([*signin.fields, ("hub_token", "ot_wrong")]),
            headers={**FORM, **korean},
        )
        assert wrong.status_code == 401 and "허브 토큰이 맞지 않습니다" in wrong.text
        assert "거실 에어컨" not in wrong.text and "set-cookie" not in wrong.headers
        # Approving straight away (no session, a wrong token) is refused too.
        fields = [*signin.fields, ("hub_token", "ot_wrong"), ("decision", "allow"), ("device", "tv")]
        answer = await client.post(
            f"{door.url}/oauth/authorize", content=urlencode(fields), headers={**FORM, **korean}
        )
        assert answer.status_code == 401 and "거실 에어컨" not in answer.text
        signed_in = await signed_in_page(client, door, params, korean)
    assert "연결할 기기" in signed_in.text and "거실 에어컨" in signed_in.text and home_name in signed_in.text


async def test_a_revoked_hub_token_ends_the_consent_session(door: Door) -> None:
    partner, _ = door.add_partner()
    params = authorize_params(partner, Pkce())
    async with httpx.AsyncClient() as client:
        assert "거실 에어컨" in (await signed_in_page(client, door, params, {"Accept-Language": "ko"})).text
        record = next(r for r in await door.hub.storage.tokens() if r.name == "test")
        assert await door.hub.revoke_token(record.id)
        again = await client.get(
            f"{door.url}/oauth/authorize", params=params, headers={"Accept-Language": "ko"}
        )
    assert again.status_code == 200 and "거실 에어컨" not in again.text


async def test_pages_cannot_be_framed(door: Door) -> None:
    partner, _ = door.add_partner()
    async with httpx.AsyncClient() as client:
        consent = await signed_in_page(client, door, authorize_params(partner, Pkce()))
        home_page = await client.get(f"{door.url}/")
    for page in (consent, home_page):
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_consent_page_speaks_english_when_asked(door: Door) -> None:
    partner, _ = door.add_partner(name="Acme Speaker")
    params = authorize_params(partner, Pkce(), ui_locales="en")
    async with httpx.AsyncClient() as client:
        page = await signed_in_page(client, door, params)
    assert "Acme Speaker wants to see and control devices" in page.text and "living room AC" in page.text


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_link(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
        auth = (partner.client_id, secret)
        rotated = await _token(
            client, door, auth, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert rotated.status_code == 200
        fresh = rotated.json()
        assert (
            fresh["refresh_token"] != tokens["refresh_token"]
            and fresh["access_token"] != tokens["access_token"]
        )
        # The old access token stays valid until it expires: partner clouds retry with it.
        headers_old = {"Authorization": f"Bearer {tokens['access_token']}"}
        old = await client.post(
            f"{door.url}/api/smarthome/fulfillment", json=intent("SYNC"), headers=headers_old
        )
        assert old.status_code == 200
        reuse = await _token(
            client, door, auth, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        # A reused refresh token ends the link: every access token of it, old and new, is refused.
        for access in (fresh["access_token"], tokens["access_token"]):
            after = await client.post(
                f"{door.url}/api/smarthome/fulfillment",
                json=intent("SYNC"),
                headers={"Authorization": f"Bearer {access}"},
            )
            assert after.status_code == 401


async def test_wrong_client_secret_is_invalid_client(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
        answer = await _token(
            client,
            door,
            (partner.client_id, "nope"),
            grant_type="refresh_token",
            refresh_token=tokens["refresh_token"],
        )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ota_forged", "Basic abc"])
async def test_missing_or_forged_token_is_401(door: Door, header: str | None) -> None:
    door.add_partner()
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{door.url}/api/smarthome/fulfillment", json=intent("SYNC"), headers=headers
        )
    assert answer.status_code == 401 and "invalid_token" in answer.headers["www-authenticate"]


async def test_hub_token_is_not_a_partner_token(door: Door) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {door.hub_token}"},
        )
    assert answer.status_code == 401


async def test_expired_access_token_is_401(door: Door) -> None:
    door.service.oauth._server.access_ttl_s = 0.2  # a short-lived server for this test
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        await asyncio.sleep(0.3)
        answer = await client.post(
            f"{door.url}/api/smarthome/fulfillment", json=intent("SYNC"), headers=headers
        )
    assert answer.status_code == 401


async def test_foreign_partners_code_cannot_be_redeemed(door: Door) -> None:
    partner_a, _ = door.add_partner(name="A")
    partner_b, secret_b = door.add_partner(name="B", redirect_uris=list(partner_a.redirect_uris))
    pkce = Pkce()
    params = authorize_params(partner_a, pkce)
    async with httpx.AsyncClient() as client:
        code, _ = await get_code(client, door, params)
        stolen = await _token(
            client,
            door,
            (partner_b.client_id, secret_b),
            grant_type="authorization_code",
            code=code,
            redirect_uri=params["redirect_uri"],
            code_verifier=pkce.verifier,
        )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


async def test_partner_over_its_rate_limit_gets_429(door: Door) -> None:
    partner, secret = door.add_partner(rate_per_minute=4)
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)  # one token request spent
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        codes = [
            (
                await client.post(
                    f"{door.url}/api/smarthome/fulfillment", json=intent("SYNC"), headers=headers
                )
            ).status_code
            for _ in range(4)
        ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


async def test_another_partners_credentials_cannot_use_a_refresh_token(door: Door) -> None:
    partner_a, secret_a = door.add_partner(name="A")
    partner_b, secret_b = door.add_partner(name="B")
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner_a, secret_a)
        answer = await _token(
            client,
            door,
            (partner_b.client_id, secret_b),
            grant_type="refresh_token",
            refresh_token=tokens["refresh_token"],
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


async def test_tokens_of_a_removed_partner_are_401(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret)
        assert door.service.store.remove_partner(partner.client_id) == 1
        answer = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert answer.status_code == 401
