"""Liveness for load balancers and `make run` scripts (no token needed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from oneteam import __version__
from oneteam.api.auth import SESSION_COOKIE, hub_of

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, Any]:
    """The hub is up; a few counters, and the supervised tasks that are failing now (restarting
    with back-off, or stopped for good), so a dead loop shows here instead of going unnoticed."""
    hub = hub_of(request)
    tasks = hub.task_health()
    failing = [
        {k: row[k] for k in ("component", "task", "state", "failures", "total_failures")}
        for row in tasks
        if row["failures"] or row["state"] == "failed"
    ]
    return {
        "status": "degraded" if failing else "ok",
        "version": __version__,
        **hub.stats(),
        "tasks": len(tasks),
        "failing_tasks": failing,
    }


@router.get("/api/info")
async def info(request: Request) -> dict[str, Any]:
    """What this hub offers, so pages can show only what exists (no token needed; no secrets), and
    whether the browser holds a sign-in cookie (HttpOnly: the page cannot see it, so it asks here
    before entering with it rather than meet a 401 on every visit)."""
    hub = hub_of(request)
    return {
        "version": __version__,
        "home": hub.home.name or hub.home.id,
        "features": sorted(hub.features),
        "session_cookie": SESSION_COOKIE in request.cookies,
    }
