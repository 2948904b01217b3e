"""A sign-in cookie belongs to the home it was made at: under a prefix (a cluster serves each home
at /homes/<id>, the app's root_path) the cookie's path is that prefix, so one browser signed into
two homes keeps both sessions; a lone hub's cookie stays at "/".

Two real hubs (the demo home, SQLite) mounted under two prefixes of one uvicorn server, as
cluster/host.py mounts homes, and one real lone hub; one httpx client plays the browser.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import Mount

from oneteam.api.app import create_app
from oneteam.api.auth import SESSION_COOKIE
from oneteam.hub import Hub, SqliteStorage, load_home
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

PASSWORD = "a long enough password"


async def _home(stack: AsyncExitStack, folder: Path, owner: str) -> FastAPI:
    await asyncio.to_thread(folder.mkdir, parents=True)
    hub = await stack.enter_async_context(Hub(load_home(DEMO_HOME), SqliteStorage(folder / "hub.sqlite3")))
    await hub.household.ensure_owner(owner)
    await hub.household.update_member(owner, by=None, password=PASSWORD)
    return create_app(hub)


async def test_two_homes_in_one_browser_keep_a_session_each(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        homes = {name: await _home(stack, tmp_path / name, f"owner_{name}") for name in ("a", "b")}
        outer = Starlette(routes=[Mount(f"/homes/{name}", app=app) for name, app in homes.items()])
        server = await stack.enter_async_context(Serve(outer))
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as browser:
            for name in homes:
                signed = await browser.post(
                    f"/homes/{name}/api/session", json={"name": f"owner_{name}", "password": PASSWORD}
                )
                assert signed.status_code == 200, signed.text
                assert f"Path=/homes/{name};" in signed.headers["set-cookie"] + ";"
            assert sorted(c.path for c in browser.cookies.jar if c.name == SESSION_COOKIE) == [
                "/homes/a",
                "/homes/b",
            ]
            for name in homes:  # each home is sent its own cookie only, and knows who signed in
                me = await browser.get(f"/homes/{name}/api/me")
                assert me.status_code == 200, me.text
                assert me.json()["member"]["name"] == f"owner_{name}"
            # Signing out of one home ends that session and clears its cookie only.
            out = await browser.delete("/homes/a/api/session")
            assert out.json() == {"signed_out": True}
            assert "Path=/homes/a;" in out.headers["set-cookie"] + ";"
            assert (await browser.get("/homes/a/api/me")).status_code == 401
            assert (await browser.get("/homes/b/api/me")).json()["member"]["name"] == "owner_b"


async def test_a_lone_hubs_cookie_stays_at_the_root(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        app = await _home(stack, tmp_path / "lone", "mom")
        server = await stack.enter_async_context(Serve(app))
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as browser:
            signed = await browser.post("/api/session", json={"name": "mom", "password": PASSWORD})
            assert signed.status_code == 200, signed.text
            assert "Path=/;" in signed.headers["set-cookie"] + ";"
            assert (await browser.get("/api/me")).json()["member"]["name"] == "mom"
