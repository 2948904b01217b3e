"""The household's REST: /api/session, /api/me, /api/members, /api/tokens and the /signin link,
on a real hub behind uvicorn. Bad input is a 4xx with a message in the reader's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from oneteam.i18n import render
from tests.api.household_home import PASSWORD, Member, Running, served_household


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    members: list[Member] = [
        ("dad", "adult", None),
        ("minji", "child", {"rooms": ["small_room"], "allow": ["tv"]}),
        ("visitor", "guest", None),
    ]
    async with served_household(tmp_path, members) as running:
        yield running


@asynccontextmanager
async def _client(running: Running, name: str, language: str = "ko") -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as `name` (the session cookie is kept by the client)."""
    async with httpx.AsyncClient(
        base_url=running.url, headers={"Accept-Language": language}, timeout=30
    ) as client:
        answer = await client.post("/api/session", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


async def test_sign_in_sets_an_http_only_cookie_and_sign_out_ends_it(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.url) as client:
        answer = await client.post("/api/session", json={"name": "minji", "password": PASSWORD})
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        me = (await client.get("/api/me")).json()
        assert me["role"] == "child" and me["manages"] is False and me["via"] == "session"
        assert me["devices"] == ["light_small", "tv"] and me["source"] == "rest:member:minji"
        assert me["member"]["permissions"]["rooms"] == ["small_room"]
        bearer = answer.json()["token"]  # the same session works as a bearer token
        async with httpx.AsyncClient(base_url=running.url) as app:  # no cookie: the bearer alone
            assert (
                await app.get("/api/me", headers={"Authorization": f"Bearer {bearer}"})
            ).status_code == 200
        out = await client.delete("/api/session")
        assert out.json() == {"signed_out": True}
        assert (await client.get("/api/me")).status_code == 401
        async with httpx.AsyncClient(base_url=running.url) as app:
            assert (
                await app.get("/api/me", headers={"Authorization": f"Bearer {bearer}"})
            ).status_code == 401


@pytest.mark.parametrize("language", ["ko", "en"])
async def test_a_wrong_password_is_401_in_the_readers_language(running: Running, language: str) -> None:
    async with httpx.AsyncClient(base_url=running.url, headers={"Accept-Language": language}) as client:
        for body in (
            {"name": "minji", "password": "not it at all"},
            {"name": "nobody", "password": PASSWORD},
        ):
            answer = await client.post("/api/session", json=body)
            assert answer.status_code == 401
            assert answer.json()["error"]["message"] == render("error.session.failed", language)
        empty = await client.post("/api/session", json={"name": "minji"})
        assert empty.status_code == 401 and empty.json()["error"]["key"] == "error.session.missing"
        extra = await client.post(
            "/api/session", json={"name": "minji", "password": PASSWORD, "role": "owner"}
        )
        assert extra.status_code == 422


@pytest.mark.parametrize("name", ["minji", "visitor"])
async def test_children_and_guests_cannot_manage_members(running: Running, name: str) -> None:
    async with _client(running, name) as client:
        listed = await client.get("/api/members")
        assert listed.status_code == 403
        assert listed.json()["error"]["message"] == render("error.member.not_allowed", "ko", what="members")
        added = await client.post(
            "/api/members", json={"name": "friend", "role": "adult", "password": PASSWORD}
        )
        assert added.status_code == 403
        widened = await client.patch(f"/api/members/{name}", json={"permissions": {"rooms": None}})
        assert widened.status_code == 403
        assert (await client.delete("/api/members/dad")).status_code == 403
        own = await client.get(f"/api/members/{name}")
        assert own.status_code == 200 and own.json()["name"] == name
        assert (await client.get("/api/members/dad")).status_code == 403
        changed = await client.patch(f"/api/members/{name}", json={"password": "my own new password"})
        assert changed.status_code == 200
    assert "friend" not in {m.name for m in await running.hub.household.members()}


async def test_owner_and_adults_manage_members_but_only_the_owner_touches_owners(running: Running) -> None:
    async with _client(running, "dad", "en") as dad:
        added = await dad.post(
            "/api/members",
            json={"name": "grandma", "role": "guest", "password": PASSWORD, "permissions": {"deny": ["tv"]}},
        )
        assert added.status_code == 201, added.text
        assert added.json()["permissions"]["deny"] == ["tv"] and added.json()["expires_at"] is not None
        assert {m["name"] for m in (await dad.get("/api/members")).json()["members"]} >= {"mom", "grandma"}
        owner = await dad.post("/api/members", json={"name": "boss", "role": "owner", "password": PASSWORD})
        assert owner.status_code == 403
        assert (await dad.patch("/api/members/mom", json={"role": "adult"})).status_code == 403
        kid = await dad.patch("/api/members/minji", json={"permissions": {"allow": ["tv", "purifier"]}})
        assert kid.status_code == 200 and kid.json()["permissions"]["allow"] == ["purifier", "tv"]
        assert (await dad.delete("/api/members/grandma")).json() == {"removed": True}
    async with _client(running, "mom") as mom:
        last = await mom.delete("/api/members/mom")
        assert last.status_code == 400 and last.json()["error"]["key"] == "error.member.last_owner"


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({"name": "Kim Minji", "role": "child"}, 400, "error.member.bad_name"),
        ({"name": "minsu", "role": "boss"}, 400, "error.member.bad_role"),
        ({"name": "minsu", "role": "child", "password": "short"}, 400, "error.member.bad_password"),
        (
            {"name": "minsu", "role": "child", "permissions": {"rooms": ["attic"]}},
            400,
            "error.member.unknown_id",
        ),
        (
            {"name": "minsu", "role": "child", "permissions": {"deny": ["oven"]}},
            400,
            "error.member.unknown_id",
        ),
        ({"name": "minsu", "role": "guest", "expires_at": 1000.0}, 400, "error.member.bad_expiry"),
        ({"name": "dad", "role": "adult"}, 409, "error.member.exists"),
        ({"name": "minsu", "role": "child", "colour": "red"}, 422, "error.malformed_request"),
    ],
)
async def test_bad_member_input_is_a_4xx_with_words(
    running: Running, body: dict[str, object], status: int, key: str
) -> None:
    for language in ("ko", "en"):
        async with _client(running, "mom", language) as mom:
            answer = await mom.post("/api/members", json=body)
            assert answer.status_code == status, answer.text
            error = answer.json()["error"]
            assert error["key"] == key and error["message"] and "{" not in error["message"]


async def test_tokens_belong_to_members_and_are_listed_and_revoked(running: Running) -> None:
    async with _client(running, "minji") as kid, _client(running, "mom") as mom:
        made = await kid.post("/api/tokens", json={"name": "tablet", "expires_in_days": 30})
        assert made.status_code == 201 and made.json()["member"] == "minji"
        token, token_id = made.json()["token"], made.json()["id"]
        dad_token = (await mom.post("/api/tokens", json={"name": "car", "member": "dad"})).json()
        others = await kid.post("/api/tokens", json={"name": "sneaky", "member": "dad"})
        assert others.status_code == 403
        mine = (await kid.get("/api/tokens")).json()["tokens"]
        assert [(t["name"], t["member"]) for t in mine] == [("tablet", "minji")]
        assert mine[0]["expires_at"] > mine[0]["created_at"] + 29 * 86400
        assert len((await mom.get("/api/tokens")).json()["tokens"]) == 2
        assert (await kid.delete(f"/api/tokens/{dad_token['id']}")).status_code == 403
        async with httpx.AsyncClient(
            base_url=running.url, headers={"Authorization": f"Bearer {token}"}
        ) as tablet:
            me = (await tablet.get("/api/me")).json()
            assert me["source"] == "rest:member:minji" and me["via"] == "token" and me["token"] == "tablet"
            refused = await tablet.post("/api/devices/washer/commands", json={"command": "start"})
            assert refused.status_code == 403
            assert (await mom.delete(f"/api/tokens/{token_id}")).json() == {"revoked": True}
            assert (await tablet.get("/api/me")).status_code == 401
        missing = await mom.delete(f"/api/tokens/{token_id}")
        assert missing.status_code == 404 and missing.json()["error"]["key"] == "error.token.not_found"
        bad = await kid.post("/api/tokens", json={"name": "x", "door": "partner"})
        assert bad.status_code == 400 and bad.json()["error"]["key"] == "error.token.bad_door"
        too_long = await kid.post("/api/tokens", json={"name": "x", "expires_in_days": 4000})
        assert too_long.status_code == 422


async def test_a_sign_in_link_opens_the_page_once(running: Running) -> None:
    code = await running.hub.household.sign_in_link("mom")
    async with httpx.AsyncClient(base_url=running.url, headers={"Accept-Language": "en"}) as browser:
        first = await browser.get("/signin", params={"code": code})
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert (await browser.get("/api/me")).json()["role"] == "owner"
    async with httpx.AsyncClient(base_url=running.url, headers={"Accept-Language": "en"}) as other:
        again = await other.get("/signin", params={"code": code})
        assert again.status_code == 401
        assert again.json()["error"]["message"] == render("error.session.link_used", "en")
        by_post = await other.post("/api/session", json={"code": code})
        assert by_post.status_code == 401
