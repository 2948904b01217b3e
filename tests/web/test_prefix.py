"""The page of a home served under a prefix, as a cluster serves each home at /homes/<id>/: signed
into through its form, its cards load, a card's command and the live WebSocket work, and nothing it
asks for leaves the prefix.

Two real hubs (the demo home's virtual devices, SQLite) mounted at /homes/a and /homes/b of one
uvicorn server in a background thread, as tests/api/test_session_cookie_path.py mounts them; an
ASGI wrapper records every request and WebSocket the server gets. One real headless Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from oneteam.api.app import create_app
from oneteam.api.auth import SESSION_COOKIE
from oneteam.cli.serve import DEMO_HOME
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from tests.web.browser import by_testid, console_entries, shown, wait_for
from tests.web.inprocess import LoopServer

PASSWORD = "a long enough password"
HOMES = ("a", "b")


class _Recorder:
    """Passes every request on, noting its kind and path first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self.seen.append((scope["type"], scope["path"]))
        await self.app(scope, receive, send)


class _PrefixedHubs(LoopServer):
    """Two homes under /homes/a and /homes/b of one server, on an event loop of their own."""

    def __init__(self, folder: Path) -> None:
        super().__init__("prefixed-hubs")
        self.folder = folder
        self.hubs: dict[str, Hub] = {}
        self.tokens: dict[str, str] = {}
        self.recorder: _Recorder | None = None
        self._stack = AsyncExitStack()

    async def _start(self) -> None:
        home = load_home(DEMO_HOME)
        for name in HOMES:
            hub = Hub(home, SqliteStorage(self.folder / f"{name}.sqlite3"))
            await hub.add_adapter(VirtualAdapter(home))
            self.hubs[name] = await self._stack.enter_async_context(hub)
            await hub.household.ensure_owner(f"owner_{name}")
            await hub.household.update_member(f"owner_{name}", by=None, password=PASSWORD)
            self.tokens[name] = await hub.create_token("prefix-test")
        mounts = [Mount(f"/homes/{name}", app=create_app(hub)) for name, hub in self.hubs.items()]
        self.recorder = _Recorder(Starlette(routes=mounts))
        await self._serve(self.recorder)

    async def _release(self) -> None:
        await self._stack.aclose()

    def api(self, home: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call to a home's REST API with its token, as another app of the household would."""
        headers = {"Authorization": f"Bearer {self.tokens[home]}"}
        answer = httpx.request(method, f"{self.url}/homes/{home}/api/{path}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_PrefixedHubs]:
    served = _PrefixedHubs(tmp_path_factory.mktemp("prefixed-homes"))
    served.start()
    yield served
    served.stop()


def _state_text(browser: webdriver.Chrome, device: str) -> str:
    return by_testid(browser, f"state-{device}").text


def _power(homes: _PrefixedHubs, home: str, device: str) -> bool:
    return bool(homes.api(home, "GET", f"devices/{device}/state")["attributes"]["power"])


def test_a_home_under_a_prefix_signs_in_loads_commands_and_goes_live_without_leaving_it(
    browser: webdriver.Chrome, homes: _PrefixedHubs
) -> None:
    assert homes.recorder is not None
    homes.api("a", "POST", "devices/light_small/commands", {"command": "turn_off"})
    homes.api("b", "POST", "devices/light_small/commands", {"command": "turn_off"})
    # The module's browser is fresh (its own profile): nothing stored, nothing asked for yet.
    homes.recorder.seen.clear()

    # Asked without the trailing slash, as a person types it; the page is based at the home.
    browser.get(f"{homes.url}/homes/a")
    wait_for(browser, lambda b: shown(b, "signin-name")).send_keys("owner_a")
    assert browser.execute_script("return document.baseURI") == f"{homes.url}/homes/a/"
    by_testid(browser, "signin-password").send_keys(PASSWORD)
    by_testid(browser, "signin-submit").click()
    wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")

    # The cards are home a's devices, and its session cookie is scoped to its prefix.
    cards = browser.find_elements("css selector", "article.card")
    devices = homes.api("a", "GET", "devices")["devices"]
    assert sorted(str(c.get_attribute("data-device")) for c in cards) == sorted(d["id"] for d in devices)
    assert len(cards) == 12
    assert [c["path"] for c in browser.get_cookies() if c["name"] == SESSION_COOKIE] == ["/homes/a"]

    # A card's command reaches home a only.
    by_testid(browser, "toggle-light_small").click()
    wait_for(browser, lambda b: _state_text(b, "light_small").startswith("켜짐"))
    assert _power(homes, "a", "light_small") is True
    assert _power(homes, "b", "light_small") is False

    # A change made elsewhere arrives over the page's WebSocket (the page does not poll).
    homes.api("a", "POST", "devices/tv/commands", {"command": "set_channel", "value": 11})
    wait_for(browser, lambda b: "채널 11" in _state_text(b, "tv"))

    # Home b in the same tab asks for its own sign-in; home a's token is kept for when we return.
    browser.get(f"{homes.url}/homes/b/")
    wait_for(browser, lambda b: shown(b, "signin-name"))
    assert not by_testid(browser, "signin-error").is_displayed()
    browser.get(f"{homes.url}/homes/a/")
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")
    assert _state_text(browser, "light_small").startswith("켜짐")

    # The one-time sign-in link a member is sent opens the page of its own home.
    code = homes.run(lambda: homes.hubs["a"].household.sign_in_link("owner_a"))
    link = httpx.get(f"{homes.url}/homes/a/signin", params={"code": code})
    assert link.status_code == 303 and link.headers["location"] == "/homes/a/"
    assert "Path=/homes/a;" in link.headers["set-cookie"] + ";"

    seen = list(homes.recorder.seen)
    outside = [s for s in seen if not (s[1] == "/homes/a" or s[1].startswith(("/homes/a/", "/homes/b/")))]
    assert outside == [], f"the page asked outside its prefix: {outside}"
    for expected in [
        ("http", "/homes/a/static/app.js"),
        ("http", "/homes/a/static/i18n/ko.json"),
        ("http", "/homes/a/static/icons.svg"),
        ("http", "/homes/a/api/session"),
        ("http", "/homes/a/api/devices"),
        ("websocket", "/homes/a/api/ws"),
        ("http", "/homes/b/static/app.js"),
    ]:
        assert expected in seen, f"{expected} was never asked for: {sorted(set(seen))}"
    errors = [e["message"] for e in console_entries(browser) if e["level"] == "SEVERE"]
    assert errors == []
