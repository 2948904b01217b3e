"""Homes of one cluster process share their routes but nothing else (cluster/home_apps.py).

Two real hubs (the demo home, SQLite) get their apps from one `HomeApps`, mounted under two
prefixes of one real uvicorn server as cluster/host.py serves homes: the apps share one router
(built once), while each answers only its own tokens, commands only its own hub, writes its own
root path in its OpenAPI spec and keeps its own lazily made state (sign-in counts).
tests/cluster/test_host.py tries every door across homes through a real node.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import websockets
from starlette.applications import Starlette
from starlette.routing import Mount

from oneteam.cluster.home_apps import HomeApps
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

LIGHT = "/api/devices/light_living"


async def test_homes_share_routes_but_answer_only_their_own_tokens(tmp_path: Path) -> None:
    apps = HomeApps(max_body_bytes=64 * 1024)
    async with AsyncExitStack() as stack:
        hubs: dict[str, Hub] = {}
        tokens: dict[str, str] = {}
        for name in ("a", "b"):
            await asyncio.to_thread((tmp_path / name).mkdir)
            home = load_home(DEMO_HOME)
            hub = Hub(home, SqliteStorage(tmp_path / name / "hub.sqlite3"))
            await hub.add_adapter(VirtualAdapter(home))
            hubs[name] = await stack.enter_async_context(hub)
            tokens[name] = await hub.create_token("phone")
        served = {name: apps.app(hub, [], [], {"marker": name}) for name, hub in hubs.items()}
        assert served["a"].router is served["b"].router  # one set of routes for the process
        assert served["a"].state.hub is hubs["a"] and served["b"].state.hub is hubs["b"]
        assert (served["a"].state.marker, served["b"].state.marker) == ("a", "b")
        outer = Starlette(routes=[Mount(f"/homes/{name}", app=app) for name, app in served.items()])
        server = await stack.enter_async_context(Serve(outer))
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            for home in ("a", "b"):
                for whose, token in tokens.items():
                    answer = await client.get(
                        f"/homes/{home}{LIGHT}/state", headers={"Authorization": f"Bearer {token}"}
                    )
                    assert answer.status_code == (200 if whose == home else 401), (home, whose)
            before_a = hubs["a"].state("light_living").attributes.get("brightness")
            done = await client.post(
                f"/homes/b{LIGHT}/commands",
                json={"command": "set_brightness", "value": 41 if before_a != 41 else 42},
                headers={"Authorization": f"Bearer {tokens['b']}"},
            )
            assert done.status_code == 200, done.text
            assert hubs["b"].state("light_living").attributes["brightness"] in (41, 42)
            assert hubs["a"].state("light_living").attributes.get("brightness") == before_a
            for home, other in (("a", "b"), ("b", "a")):
                spec = (await client.get(f"/homes/{home}/openapi.json")).json()
                urls = [s["url"] for s in spec.get("servers", [])]
                assert f"/homes/{home}" in urls and f"/homes/{other}" not in urls, urls
            # A failed sign-in is counted by the home it was tried at only.
            await client.post("/homes/a/api/session", json={"name": "nobody", "password": "wrong password"})
        assert getattr(served["a"].state, "signin_limits", None) is not None
        assert getattr(served["b"].state, "signin_limits", None) is None
        base = server.url.replace("http://", "ws://")
        async with websockets.connect(f"{base}/homes/b/api/ws?token={tokens['b']}", open_timeout=10) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert hello, "the socket's first frame"
        try:
            async with websockets.connect(f"{base}/homes/b/api/ws?token={tokens['a']}", open_timeout=10):
                raise AssertionError("home a's token opened a socket at home b")
        except websockets.InvalidStatus as refused:
            assert refused.response.status_code == 403
