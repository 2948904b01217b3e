"""The home as an MCP server sees it: in the hub's process (`LocalHome`) or over the hub's REST API
(`RemoteHome`, what `oneteam mcp` uses beside a running `oneteam serve`). Both go through the
hub's one command path, so validation and errors are the hub's."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, Protocol

import httpx

from oneteam.hub import Hub
from oneteam.i18n import render
from oneteam.model import Command, Direction, OneteamError


class HomeError(Exception):
    """A refusal to show the agent: already in words."""


class HomePort(Protocol):
    """What the MCP tools need from the home."""

    async def devices(self) -> list[dict[str, Any]]:
        """Every device: id, type, room, names, commands, current attributes."""

    async def state(self, device_id: str) -> dict[str, Any]:
        """One device's state: attributes and whether it is reachable."""

    async def command(self, command: Command) -> dict[str, Any]:
        """Carry out a command; the new state."""

    async def converse(self, text: str, language: str | None, room: str | None) -> dict[str, Any]:
        """A sentence through the language understanding; the reply."""

    async def check_token(self, token: str) -> bool:
        """Whether a bearer token is one of the hub's."""


class LocalHome:
    """The hub in this process."""

    def __init__(self, hub: Hub, *, language: str = "en") -> None:
        self._hub = hub
        self._language = language

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
        try:
            state = self._hub.state(device_id)
        except OneteamError as exc:
            raise HomeError(render(exc.key, self._language, **exc.params)) from exc
        return {
            "device_id": device_id,
            "attributes": dict(state.attributes),
            "is_available": state.is_available,
        }

    async def command(self, command: Command) -> dict[str, Any]:
        """Dispatch through the hub."""
        try:
            state = await self._hub.dispatch(command)
        except OneteamError as exc:
            raise HomeError(render(exc.key, self._language, **exc.params)) from exc
        return {
            "device_id": state.device_id,
            "attributes": dict(state.attributes),
            "is_available": state.is_available,
        }

    async def converse(self, text: str, language: str | None, room: str | None) -> dict[str, Any]:
        """The hub's conversation agent."""
        try:
            reply = await self._hub.converse(text, room=room, language=language, session="mcp", source="mcp")
        except OneteamError as exc:
            raise HomeError(render(exc.key, language or self._language, **exc.params)) from exc
        return asdict(reply)

    async def check_token(self, token: str) -> bool:
        """The hub's own token check."""
        return await self._hub.check_token(token)


class RemoteHome:
    """A running hub over its REST API, with one of its bearer tokens."""

    _TOKEN_CACHE_S = 30.0

    def __init__(self, url: str, token: str, *, language: str = "en", timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept-Language": language,
                "x-oneteam-source": "mcp",
            },
            timeout=timeout_s,
        )
        self._url = url.rstrip("/")
        self._checked: dict[str, float] = {}

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
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
        return {k: data[k] for k in ("device_id", "attributes", "is_available")}

    async def command(self, command: Command) -> dict[str, Any]:
        """POST /api/devices/{id}/commands."""
        body = {k: v for k, v in command.as_dict().items() if k != "device"}
        data = await self._call("POST", f"/api/devices/{command.device_id}/commands", json=body)
        state = data["state"]
        return {k: state[k] for k in ("device_id", "attributes", "is_available")}

    async def converse(self, text: str, language: str | None, room: str | None) -> dict[str, Any]:
        """POST /api/conversation."""
        body = {"text": text, "language": language, "room": room, "session": "mcp"}
        result: dict[str, Any] = await self._call("POST", "/api/conversation", json=body)
        return result

    async def check_token(self, token: str) -> bool:
        """Ask the hub (one cheap authenticated read), remembering a yes for a short while."""
        now = time.monotonic()
        if self._checked.get(token, 0.0) > now:
            return True
        try:
            response = await self._client.get(
                "/api/events", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError:
            return False
        if response.status_code == 200:
            self._checked[token] = now + self._TOKEN_CACHE_S
            return True
        return False


def direction_of(value: str | None) -> Direction | None:
    """`up`/`down` → Direction; anything else is refused."""
    if value is None:
        return None
    try:
        return Direction(value)
    except ValueError:
        raise HomeError(f"direction must be 'up' or 'down', not {value!r}") from None
