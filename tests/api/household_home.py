"""The demo home served by a real hub behind uvicorn, with household members who all sign in
with one password: the set-up the household API tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from tests.interop.smarthome.conftest import DEMO_HOME, Serve

PASSWORD = "a long enough password"
OWNER = "mom"

Member = tuple[str, str, dict[str, list[str]] | None]
"""(name, role, permission overrides or None)."""


@dataclass
class Running:
    hub: Hub
    url: str
    app: FastAPI


@asynccontextmanager
async def served_household(
    folder: Path,
    members: Sequence[Member],
    *,
    prepare: Callable[[Hub], Awaitable[None]] | None = None,
    configure: Callable[[FastAPI], None] | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> AsyncIterator[Running]:
    """The owner `mom` and `members`; `prepare` runs on the started hub before serving (a
    conversation agent, say), `configure` on the app (its sign-in limits, say)."""
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(folder / "oneteam.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, time_scale=1.0, tick_s=3600))
    async with hub:
        await hub.household.ensure_owner(OWNER)
        await hub.household.update_member(OWNER, by=None, password=PASSWORD)
        for name, role, overrides in members:
            await hub.household.add_member(name, role, by=None, password=PASSWORD, overrides=overrides)
        if prepare is not None:
            await prepare(hub)
        app = create_app(hub)
        if configure is not None:
            configure(app)
        async with Serve(app, trusted_proxies=trusted_proxies) as api:
            yield Running(hub, api.url, app)
