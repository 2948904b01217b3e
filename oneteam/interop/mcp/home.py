"""The home as an MCP server sees it: in the hub's process (`LocalHome`) or over the hub's REST API
(`RemoteHome`, what `oneteam mcp` uses beside a running `oneteam serve`). Both go through the
hub's one command path, so validation, permissions and errors are the hub's: the agent's allowed
commands travel with every command and sentence and are checked before anything is dispatched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from mcp.server.auth.middleware.auth_context import get_access_token

from oneteam.hub import Hub
from oneteam.hub.routines import RoutineEntry, routines_of
from oneteam.i18n import render
from oneteam.model import Command, Direction, Door, Grant, OneteamError, State


class HomeError(Exception):
    """A refusal to show the agent: already in words."""


class HomePort(Protocol):
    """What the MCP tools need from the home."""

    async def devices(self) -> list[dict[str, Any]]:
        """Every device: id, type, room, names, commands, current attributes."""

    async def state(self, device_id: str) -> dict[str, Any]:
        """One device's state: attributes and whether it is reachable."""

    async def command(
        self, command: Command, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Carry out a command if `allowed`, `devices` (None: all) and the caller's token permit it."""

    async def converse(
        self,
        text: str,
        language: str | None,
        room: str | None,
        allowed: frozenset[str],
        devices: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """A sentence through the language understanding, acting only within `allowed` and `devices`."""

    async def identify(self, token: str) -> str | None:
        """The principal of a hub bearer token (`token:<name>`), or None when it is not valid now."""

    async def routines(self) -> list[dict[str, Any]]:
        """Every routine and scene: id, kind, names, enabled, running."""

    async def run_routine(
        self, routine_id: str, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Run a routine now or apply a scene, only if every command it sends is within `allowed`,
        `devices` and the caller's token; the run with each step's result."""


class LocalHome:
    """The hub in this process."""

    def __init__(self, hub: Hub, *, language: str = "en", principal: str = "local") -> None:
        self._hub = hub
        self._language = language
        self._principal = principal
        """Who acts when no HTTP caller's token says otherwise (a stdio agent in the hub's process)."""

    async def _grant(self, allowed: frozenset[str], devices: frozenset[str] | None) -> Grant:
        access = get_access_token()  # the HTTP caller, as HubTokenVerifier identified it
        if access is None:
            return Grant(principal=self._principal, door=Door.MCP, commands=allowed, devices=devices)
        # A member's token acts within the member's permissions, narrowed by the agent's lists.
        grant = await self._hub.grant_for(access.token, Door.MCP)
        if grant is None:
            raise HomeError("the token is not valid any more")
        return grant.narrowed(commands=allowed, devices=devices)

    @contextmanager
    def _in_words(self, language: str | None = None) -> Iterator[None]:
        """A refusal from the hub becomes a HomeError in the agent's language."""
        try:
            yield
        except OneteamError as exc:
            raise HomeError(render(exc.key, language or self._language, **exc.params)) from exc

    async def devices(self) -> list[dict[str, Any]]:
        """Every device with its commands and attributes."""
        states = self._hub.states()
        return [
            {
                "id": d.id,
                "type": d.type.value,
                "room": d.room,
                "names": list(d.names),
                "commands": list(d.spec.commands),
                "modes": list(d.spec.modes),
                "attributes": dict(states[d.id].attributes),
            }
            for d in self._hub.devices()
        ]

    async def state(self, device_id: str) -> dict[str, Any]:
        """One device's state."""
        with self._in_words():
            return _state(self._hub.state(device_id))

    async def command(
        self, command: Command, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Dispatch through the hub under the agent's grant."""
        with self._in_words():
            return _state(await self._hub.dispatch(command, grant=await self._grant(allowed, devices)))

    async def converse(
        self,
        text: str,
        language: str | None,
        room: str | None,
        allowed: frozenset[str],
        devices: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """The hub's conversation agent, under the agent's grant."""
        grant = await self._grant(allowed, devices)
        with self._in_words(language):
            reply = await self._hub.converse(
                text, room=room, language=language, session=f"mcp:{grant.principal}", grant=grant
            )
        return asdict(reply)

    async def identify(self, token: str) -> str | None:
        """The hub's own token check (revocation is seen at once)."""
        grant = await self._hub.grant_for(token, Door.MCP)
        return None if grant is None else grant.principal

    async def routines(self) -> list[dict[str, Any]]:
        """The automation engine's routines and scenes."""
        with self._in_words():
            return [_routine(e) for e in routines_of(self._hub).catalog()]

    async def run_routine(
        self, routine_id: str, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Through the engine under the agent's grant (refused before anything runs)."""
        with self._in_words():
            return await routines_of(self._hub).activate(
                routine_id, grant=await self._grant(allowed, devices), wait_s=ROUTINE_WAIT_S
            )


class RemoteHome:
    """A running hub over its REST API, with one of its bearer tokens.

    Over the HTTP transport each call carries the agent's own token to the hub, so the hub checks
    (and logs) that token on every call; over stdio the token given at start-up is used. Either way
    nothing is cached here: a revoked token fails on the very next call. Give the MCP process a
    token made with `oneteam token create --door mcp` and the log shows its commands as MCP's."""

    def __init__(self, url: str, token: str, *, language: str = "en", timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept-Language": language},
            timeout=timeout_s,
        )
        self._url = url.rstrip("/")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        access = get_access_token()
        if access is not None:
            kwargs["headers"] = {"Authorization": f"Bearer {access.token}"}
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise HomeError(f"the hub at {self._url} cannot be reached: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}"
            raise HomeError(str(message))
        return response.json()

    async def devices(self) -> list[dict[str, Any]]:
        """GET /api/devices."""
        data = await self._call("GET", "/api/devices")
        return [
            {
                "id": d["id"],
                "type": d["type"],
                "room": d["room"],
                "names": d["names"],
                "commands": d["capabilities"]["commands"],
                "modes": d["capabilities"]["modes"],
                "attributes": d["state"]["attributes"],
            }
            for d in data["devices"]
        ]

    async def state(self, device_id: str) -> dict[str, Any]:
        """GET /api/devices/{id}/state."""
        data = await self._call("GET", f"/api/devices/{device_id}/state")
        return {k: data[k] for k in STATE_KEYS}

    async def command(
        self, command: Command, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """POST /api/devices/{id}/commands (the MCP server refused anything outside its limits)."""
        if command.name not in allowed:
            raise HomeError(f"{command.name!r} is not allowed for this agent")
        if devices is not None and command.device_id not in devices:
            raise HomeError(f"{command.device_id!r} is not allowed for this agent")
        body = {k: v for k, v in command.as_dict().items() if k != "device"}
        data = await self._call("POST", f"/api/devices/{command.device_id}/commands", json=body)
        state = data["state"]
        return {k: state[k] for k in STATE_KEYS}

    async def converse(
        self,
        text: str,
        language: str | None,
        room: str | None,
        allowed: frozenset[str],
        devices: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """POST /api/conversation, narrowed to `allowed` and `devices` (the hub refuses the rest
        before dispatch)."""
        body: dict[str, Any] = {
            "text": text,
            "language": language,
            "room": room,
            "session": "mcp",
            "allow": sorted(allowed),
        }
        if devices is not None:
            body["devices"] = sorted(devices)
        result: dict[str, Any] = await self._call("POST", "/api/conversation", json=body)
        return result

    async def routines(self) -> list[dict[str, Any]]:
        """GET /api/routines."""
        data = await self._call("GET", "/api/routines")
        return [
            {k: r.get(k) for k in ("id", "kind", "names", "enabled", "running")} for r in data["routines"]
        ]

    async def run_routine(
        self, routine_id: str, allowed: frozenset[str], devices: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """POST /api/routines/{id}/run, narrowed to `allowed` and `devices` (the hub refuses a
        routine that would send anything else before it runs)."""
        params: dict[str, Any] = {"wait": ROUTINE_WAIT_S, "allow": sorted(allowed)}
        if devices is not None:
            params["devices"] = sorted(devices)
        result: dict[str, Any] = await self._call(
            "POST", f"/api/routines/{quote(routine_id, safe='')}/run", params=params
        )
        return result

    async def identify(self, token: str) -> str | None:
        """Ask the hub who the token is, every time (GET /api/token)."""
        try:
            response = await self._client.get("/api/token", headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        principal = response.json().get("principal")
        return str(principal) if principal else None


ROUTINE_WAIT_S = 10.0
"""How long run_routine waits for a run's result before answering with it still running."""


STATE_KEYS = ("device_id", "attributes", "is_available")
"""A device state as the tools show it, from the hub (`_state`) or from its REST answer."""


def _state(state: State) -> dict[str, Any]:
    return {
        "device_id": state.device_id,
        "attributes": dict(state.attributes),
        "is_available": state.is_available,
    }


def _routine(entry: RoutineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "names": dict(entry.names),
        "enabled": entry.enabled,
        "running": entry.running,
    }


def direction_of(value: str | None) -> Direction | None:
    """`up`/`down` → Direction; anything else is refused."""
    if value is None:
        return None
    try:
        return Direction(value)
    except ValueError:
        raise HomeError(f"direction must be 'up' or 'down', not {value!r}") from None
