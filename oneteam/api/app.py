"""The HTTP + WebSocket face of the hub (FastAPI)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, FastAPI

from oneteam import __version__
from oneteam.api import auth, conversation, devices, events, health, schedules, web, ws
from oneteam.api.auth import require_token
from oneteam.api.errors import install_error_handlers
from oneteam.api.frames import NoFraming
from oneteam.api.limits import BodySizeLimit
from oneteam.hub import Hub

DEFAULT_MAX_BODY_BYTES = 64 * 1024


def create_app(
    hub: Hub,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    extra_routers: Sequence[APIRouter] = (),
    public_routers: Sequence[APIRouter] = (),
    allowed_origins: Sequence[str] = (),
) -> FastAPI:
    """An app serving `hub`. The hub's lifetime is the caller's (see `oneteam serve`)."""
    app = FastAPI(
        title="oneteam",
        version=__version__,
        description="One home, one command path: devices, commands, events.",
    )
    app.state.hub = hub
    app.state.allowed_origins = tuple(o.strip().rstrip("/").lower() for o in allowed_origins)
    install_error_handlers(app)
    app.include_router(health.router)
    protected = [Depends(require_token)]
    for router in (
        auth.router,
        devices.router,
        events.router,
        conversation.router,
        schedules.router,
        *extra_routers,
    ):
        app.include_router(router, dependencies=protected)
    app.include_router(ws.router)
    # Routers that authenticate on their own (the partner door's OAuth and fulfillment).
    for router in public_routers:
        app.include_router(router)
    app.include_router(web.router)
    app.add_middleware(BodySizeLimit, limit_bytes=max_body_bytes)
    app.add_middleware(NoFraming)
    return app
