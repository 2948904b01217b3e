"""PKCE is required unless a partner was registered explicitly as a confidential client without it
(some smart-home clouds send no code_challenge); such a partner still proves itself with its secret."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.interop.smarthome.conftest import Door, Pkce, authorize_params, get_code, intent


def _without_pkce(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if not k.startswith("code_challenge")}


async def test_a_confidential_partner_without_pkce_links_with_its_secret(door: Door) -> None:
    partner, secret = door.add_partner(pkce_required=False)
    params = _without_pkce(authorize_params(partner, Pkce()))
    async with httpx.AsyncClient(timeout=10) as client:
        code, _ = await get_code(client, door, params)
        token = f"{door.url}/oauth/token"
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"]}
        wrong = await client.post(token, data=form, auth=(partner.client_id, "not-the-secret"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        answer = await client.post(token, data=form, auth=(partner.client_id, secret))
        assert answer.status_code == 200, answer.text
        access = answer.json()["access_token"]
        sync = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {access}"},
        )
        assert sync.status_code == 200 and sync.json()["payload"]["devices"]


@pytest.mark.parametrize("pkce_required", [True, False])
async def test_plain_pkce_is_refused_either_way(door: Door, pkce_required: bool) -> None:
    partner, _ = door.add_partner(pkce_required=pkce_required)
    params = authorize_params(partner, Pkce(), code_challenge_method="plain")
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params)
    assert page.status_code == 302
    assert parse_qs(urlsplit(page.headers["location"]).query)["error"] == ["invalid_request"]


async def test_a_default_partner_must_still_send_a_challenge(door: Door) -> None:
    partner, _ = door.add_partner()
    params = _without_pkce(authorize_params(partner, Pkce()))
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{door.url}/oauth/authorize", params=params)
    assert page.status_code == 302
    assert parse_qs(urlsplit(page.headers["location"]).query)["error"] == ["invalid_request"]


async def test_a_verifier_without_a_challenge_is_refused(door: Door) -> None:
    partner, secret = door.add_partner(pkce_required=False)
    params = _without_pkce(authorize_params(partner, Pkce()))
    async with httpx.AsyncClient(timeout=10) as client:
        code, _ = await get_code(client, door, params)
        answer = await client.post(
            f"{door.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": Pkce().verifier,
            },
            auth=(partner.client_id, secret),
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
