"""Routines and scenes over REST: CRUD, run now, on/off, traces, YAML import/export.

The caller's grant must cover every command a routine would send, when it is saved and when it
is run now, so a token limited to some rooms cannot reach other rooms through a routine. A
routine saved here acts as `routine:<id>` within the saver's grant as it stands at each run (a
revoked token's routines stop); imports and presets stay the household's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from oneteam.api.auth import grant_of
from oneteam.api.schemas import ROW_ID_MAX, error_responses
from oneteam.automation import AutomationInvalid, Engine, RunNotFound
from oneteam.automation.definitions import commands_in
from oneteam.automation.engine import Allow
from oneteam.automation.model import Routine
from oneteam.automation.presets import preset_text
from oneteam.model import Grant, OneteamError

router = APIRouter(prefix="/api/routines", tags=["routines"])
MAX_WAIT_S = 30.0


class AutomationNotRunning(OneteamError):
    """The hub runs without its automation engine."""

    key = "automation.not_running"


def engine_of(request: Request) -> Engine:
    """The hub's automation engine (set on app.state by `oneteam serve`)."""
    engine: Engine | None = getattr(request.app.state, "automation", None)
    if engine is None:
        raise AutomationNotRunning("the automation engine is not running")
    return engine


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null", parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        reason = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
        raise AutomationInvalid("automation.bad_json", "body", reason, reason=reason) from None


def _allow(engine: Engine, grant: Grant) -> Allow:
    """Refuse (PermissionDenied) a routine that would send a command this caller may not send."""

    def allow(routines: Mapping[str, Routine], routine: Routine) -> None:
        for action in commands_in(routine, routines):
            grant.refuse(engine.hub.device(action.device), action.command)

    return allow


@router.get("")
async def list_routines(request: Request) -> dict[str, Any]:
    """Every routine and scene, with those that no longer fit the home."""
    engine = engine_of(request)
    return {"routines": [engine.describe(r) for r in engine.routines.values()], "problems": engine.problems}


@router.get("/status")
async def engine_status(request: Request) -> dict[str, Any]:
    """Counters, the next time triggers and the home's location."""
    return engine_of(request).status()


@router.post("/import", responses=error_responses(403))
async def import_routines(request: Request) -> dict[str, Any]:
    """`{"yaml": "...", "replace": true}` (all or nothing) or `{"preset": "ko"}` (steps for devices
    the home lacks are left out, with notes)."""
    engine = engine_of(request)
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("yaml", body.get("preset")), str):
        raise AutomationInvalid("automation.import_what", "body", "give yaml or preset")
    grant = grant_of(request)
    allow = _allow(engine, grant)
    # What a caller imports acts as that caller, like what it saves one by one.
    if isinstance(body.get("preset"), str):
        return await engine.import_yaml(
            preset_text(body["preset"]),
            origin="preset",
            replace_existing=False,
            strict=False,
            allow=allow,
            owner=grant,
        )
    replace = body.get("replace", True) is not False
    return await engine.import_yaml(
        body["yaml"], origin="api", replace_existing=replace, allow=allow, owner=grant
    )


@router.get("/export")
async def export_routines(request: Request, ids: str | None = None) -> Response:
    """The routines (all, or `ids=a,b`) as YAML that import reads back."""
    chosen = [i for i in (ids or "").split(",") if i]
    text = engine_of(request).export_yaml(chosen or None)
    return Response(text, media_type="application/yaml; charset=utf-8")


@router.get("/runs/{run_id}", responses=error_responses(404))
async def get_run(run_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], request: Request) -> dict[str, Any]:
    """One run with its trace."""
    record = await asyncio.to_thread(engine_of(request).store.run, run_id)  # off the loop
    if record is None:
        raise RunNotFound(run_id)
    return record.as_dict()


@router.post("", status_code=201, responses=error_responses(403))
async def create_routine(request: Request) -> dict[str, Any]:
    """A new routine (`actions:`) or scene (`targets:`); refused with the reason when it does not fit."""
    engine = engine_of(request)
    body = await _body(request)
    grant = grant_of(request)
    return await engine.put(
        body, origin="api", replace_existing=False, allow=_allow(engine, grant), owner=grant
    )


@router.put("/{routine_id}", responses=error_responses(403))
async def replace_routine(routine_id: str, request: Request) -> dict[str, Any]:
    """Create or replace the routine `routine_id`."""
    engine = engine_of(request)
    body = await _body(request)
    if isinstance(body, dict):
        body = {**body, "id": routine_id}
    grant = grant_of(request)
    return await engine.put(
        body, origin="api", replace_existing=True, allow=_allow(engine, grant), owner=grant
    )


@router.get("/{routine_id}")
async def get_routine(routine_id: str, request: Request) -> dict[str, Any]:
    """One routine or scene."""
    engine = engine_of(request)
    return engine.describe(engine.get(routine_id))


@router.delete("/{routine_id}")
async def delete_routine(routine_id: str, request: Request) -> dict[str, Any]:
    """Delete a routine or scene (its past runs stay readable)."""
    await engine_of(request).delete(routine_id)
    return {"ok": True}


@router.post("/{routine_id}/run", responses=error_responses(403, 404, 409))
async def run_routine(
    routine_id: str,
    request: Request,
    wait: float = Query(default=0.0, ge=0.0, le=MAX_WAIT_S),
    allow: Annotated[list[Annotated[str, Query(max_length=64)]] | None, Query(max_length=32)] = None,
    devices: Annotated[list[Annotated[str, Query(max_length=128)]] | None, Query(max_length=1000)] = None,
) -> dict[str, Any]:
    """Run now (conditions are not checked); `wait`: seconds to wait for the result (409 while a
    run is going and the routine's mode allows no second one). `allow` and
    `devices` narrow the token's permissions (an MCP server passes its limits), never widen them."""
    engine = engine_of(request)
    routine = engine.get(routine_id)
    grant = grant_of(request)
    if allow is not None:
        grant = grant.narrowed(commands=frozenset(allow))
    if devices is not None:
        grant = grant.narrowed(devices=frozenset(devices))
    _allow(engine, grant)(engine.routines, routine)
    record = await engine.run_now(routine_id, source=grant.source, wait_s=wait)
    return record.as_dict()


@router.post("/{routine_id}/enable")
async def enable_routine(routine_id: str, request: Request) -> dict[str, Any]:
    """Let the routine's triggers start it."""
    engine = engine_of(request)
    return engine.describe(await engine.set_enabled(routine_id, True))


@router.post("/{routine_id}/disable")
async def disable_routine(routine_id: str, request: Request) -> dict[str, Any]:
    """Keep the routine, but let nothing trigger it."""
    engine = engine_of(request)
    return engine.describe(await engine.set_enabled(routine_id, False))


@router.get("/{routine_id}/traces")
async def routine_traces(
    routine_id: str, request: Request, limit: int = Query(default=20, ge=1, le=200)
) -> dict[str, Any]:
    """The routine's latest runs with their traces, newest first."""
    runs = await asyncio.to_thread(engine_of(request).runs, routine_id, limit)  # a store read: off the loop
    return {"runs": [r.as_dict() for r in runs]}
