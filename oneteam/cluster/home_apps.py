"""Every home's FastAPI app in a cluster process, built from one app per set of routers.

A FastAPI app builds each router's routes (their pydantic validators and dependency trees) on its
first request: ~30 ms of CPU per app. With an app per home, a process serving hundreds of homes
paid that once per home, and a burst of commands to homes not asked since they opened queued every
home's requests behind it (REST p50 of seconds at 1,000 homes). Here the routes are built once per
process: each home gets a light copy of one template app (api/app.py `app_like`) that shares its
router, middleware and handlers and holds only the home's own state (its hub, routine engine,
partner door), which is all a route reads (`request.app.state`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.datastructures import State

from oneteam.api.app import app_like, create_app
from oneteam.hub import Hub


class HomeApps:
    """The process's template apps, one per set of routers (the parts a home runs)."""

    def __init__(self, *, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self._templates: dict[tuple[tuple[int, ...], tuple[int, ...]], FastAPI] = {}
        """By the routers' ids (APIRouter is not hashable; a template keeps its routers alive)."""

    def app(
        self, hub: Hub, routers: Sequence[APIRouter], public: Sequence[APIRouter], state: dict[str, Any]
    ) -> FastAPI:
        """`hub`'s app with the `routers` that need a token and the `public` ones, `state` on it."""
        key = (tuple(map(id, routers)), tuple(map(id, public)))
        template = self._templates.get(key)
        if template is None:
            template = create_app(
                hub, max_body_bytes=self.max_body_bytes, extra_routers=routers, public_routers=public
            )
            # The template serves no home: keep only its settings, not the first home's hub.
            template.state = State({k: v for k, v in template.state._state.items() if k != "hub"})
            self._templates[key] = template
        return app_like(template, hub, state)
