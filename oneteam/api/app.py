"""The HTTP + WebSocket face of the hub (FastAPI)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Security
from fastapi.security import HTTPBearer
from starlette.datastructures import State

from oneteam import __version__
from oneteam.api import (
    auth,
    conversation,
    devices,
    docs,
    events,
    health,
    household,
    schedules,
    warnings,
    web,
    ws,
)
from oneteam.api.auth import require_token
from oneteam.api.errors import install_error_handlers
from oneteam.api.frames import NoFraming
from oneteam.api.limits import BodySizeLimit
from oneteam.api.schemas import document_errors, error_responses
from oneteam.hub import Hub

DEFAULT_MAX_BODY_BYTES = 64 * 1024
# Declares the bearer scheme in the OpenAPI spec; `require_token` does the checking.
_BEARER = HTTPBearer(auto_error=False, description="A hub token from `oneteam token create`.")


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
        # /docs is served from local files (docs.py); the CDN-loading defaults stay off.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.hub = hub
    app.state.allowed_origins = tuple(o.strip().rstrip("/").lower() for o in allowed_origins)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(household.public_router, responses=error_responses(401, 422))
    protected = [Depends(require_token), Security(_BEARER)]
    for router in (
        auth.router,
        devices.router,
        devices.states_router,
        events.router,
        conversation.router,
        schedules.router,
        warnings.router,
        household.router,
        *extra_routers,
    ):
        app.include_router(router, dependencies=protected, responses=error_responses(400, 401, 413, 422))
    app.include_router(ws.router)
    # Routers that authenticate on their own (the partner door's OAuth and fulfillment).
    for router in public_routers:
        app.include_router(router)
    app.include_router(docs.router)
    app.include_router(web.router)
    app.add_middleware(BodySizeLimit, limit_bytes=max_body_bytes)
    app.add_middleware(NoFraming)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def app_like(template: FastAPI, hub: Hub, state: dict[str, Any]) -> FastAPI:
    """An app serving `hub` that shares `template`'s routes, middleware and error handlers (one
    `create_app` with the same routers and limits): only its `state` is its own (`hub` and the
    template's other settings, then `state`). FastAPI builds a router's routes (their pydantic
    validators) on an app's first request, ~30 ms of CPU: a process serving a thousand homes
    builds them once, not once per home (cluster/home_apps.py)."""
    if template.middleware_stack is None:  # built once, before the first copy shares it
        template.middleware_stack = template.build_middleware_stack()
    app = copy.copy(template)  # the same router and middleware objects; a request sets scope["app"]
    settings = {k: v for k, v in template.state._state.items() if k != "hub"}
    app.state = State({**settings, "hub": hub, **state})
    return app  # the spec too is the template's (each answer names the home's root path)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The spec, where every operation also documents the errors any route of its shape answers
    (bodies, parameters, ids, tokens: schemas.document_errors), so no router need remember them."""
    return document_errors(FastAPI.openapi(app))  # cached by FastAPI; the additions are idempotent
