"""An MCP server (official `mcp` SDK) so an LLM agent can drive the home: list devices, read state,
send allow-listed commands, or say a Korean or English sentence to the language understanding.

Transports: stdio for a local agent that starts `oneteam mcp` itself, and streamable HTTP where
every request carries a hub bearer token (checked by the SDK's bearer middleware).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from starlette.applications import Starlette

from oneteam.i18n import render
from oneteam.interop.mcp.home import HomeError, HomePort, direction_of
from oneteam.model import Command, Direction
from oneteam.model.conversation import MAX_SENTENCE_CHARS

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_ALLOWED_COMMANDS: frozenset[str] = frozenset(
    {
        "turn_on",
        "turn_off",
        "start",
        "pause",
        "stop",
        "return_to_base",
        "set_temperature",
        "adjust_temperature",
        "set_mode",
        "set_fan_speed",
        "set_brightness",
        "adjust_brightness",
        "set_volume",
        "adjust_volume",
        "set_channel",
    }
)
"""Commands an agent may send; an operator narrows it (`--allow`), e.g. to lights and TV only."""

SOURCE = "mcp"


class HubTokenVerifier:
    """The SDK's TokenVerifier over the hub's own bearer tokens."""

    def __init__(self, home: HomePort) -> None:
        self._home = home

    async def verify_token(self, token: str) -> AccessToken | None:
        """An AccessToken for a valid hub token (its principal as client id), else None (401)."""
        principal = await self._home.identify(token)
        if principal is None:
            return None
        return AccessToken(token=token, client_id=principal, scopes=[])


def build_server(
    home: HomePort,
    *,
    allowed_commands: Iterable[str] = DEFAULT_ALLOWED_COMMANDS,
    allowed_devices: Iterable[str] | None = None,
    language: str = "en",
    http_url: str | None = None,
) -> MCPServer:
    """The MCP server over `home`. With `http_url` (where it is served), HTTP needs a hub token.
    `allowed_devices` (None: all) limits every tool to those devices, `say` included."""
    allowed = frozenset(allowed_commands)
    devices_allowed = None if allowed_devices is None else frozenset(allowed_devices)

    def check_device(device_id: str) -> None:
        if devices_allowed is not None and device_id not in devices_allowed:
            raise ToolError(
                render(
                    "interop.mcp.device_not_allowed",
                    language,
                    device=device_id,
                    allowed=", ".join(sorted(devices_allowed)) or "-",
                )
            )

    auth = None
    verifier = None
    if http_url is not None:
        auth = AuthSettings(issuer_url=http_url, resource_server_url=http_url, validate_token_resource=False)
        verifier = HubTokenVerifier(home)
    server: MCPServer = MCPServer(
        name="oneteam",
        instructions=(
            "Drive a Korean smart home. Call list_devices first; send_command uses the device ids and "
            "command names it lists. `say` accepts a Korean or English sentence."
        ),
        token_verifier=verifier,
        auth=auth,
    )

    @server.tool()
    async def list_devices() -> dict[str, Any]:
        """Every device of the home with its room, names, the commands an agent may send, and its state."""
        devices = await _guard(home.devices())
        if devices_allowed is not None:
            devices = [d for d in devices if d["id"] in devices_allowed]
        for device in devices:
            device["commands"] = [c for c in device["commands"] if c in allowed]
        return {"devices": devices}

    @server.tool()
    async def get_state(device_id: str = Field(min_length=1, max_length=128)) -> dict[str, Any]:
        """The current state of one device (attributes such as power, temperature, run_state)."""
        check_device(device_id)
        return await _guard(home.state(device_id))

    @server.tool()
    async def send_command(
        device_id: str = Field(min_length=1, max_length=128),
        command: str = Field(min_length=1, max_length=64, description="e.g. set_temperature, turn_on"),
        value: float | str | None = Field(default=None, description="Number (°C, %, channel) or mode id."),
        direction: str | None = Field(default=None, description="up or down, for adjust_* commands."),
        target: str | None = Field(default=None, max_length=32, description="fridge or freezer."),
    ) -> dict[str, Any]:
        """Carry out one allow-listed command on one device; returns the device's new state."""
        check_device(device_id)
        if command not in allowed:
            raise ToolError(
                render(
                    "interop.mcp.not_allowed", language, command=command, allowed=", ".join(sorted(allowed))
                )
            )
        number: float | int | str | None = value
        if isinstance(value, float) and value.is_integer():
            number = int(value)
        return await _guard(
            home.command(
                Command(
                    device_id=device_id,
                    name=command,
                    value=number,
                    direction=_direction(direction),
                    target=target,
                    source=SOURCE,
                ),
                allowed,
                devices_allowed,
            )
        )

    @server.tool()
    async def say(
        # The hub refuses a sentence over MAX_SENTENCE_CHARS with a message in the caller's language;
        # this bound only stops absurd input before it is handed on.
        text: str = Field(
            min_length=1,
            max_length=10_000,
            description=f"A sentence (at most {MAX_SENTENCE_CHARS} characters).",
        ),
        language: str | None = Field(default=None, pattern="^(ko|en)$"),
        room: str | None = Field(default=None, max_length=64),
    ) -> dict[str, Any]:
        """Say a sentence to the home ("주방 조명 밝기 40%로 해 줘"); it is understood and carried out
        (only the allowed commands: the rest are refused before they run, and the reply says so)."""
        return await _guard(home.converse(text, language, room, allowed, devices_allowed))

    @server.tool()
    async def list_routines() -> dict[str, Any]:
        """The home's routines and scenes (id, kind, names in Korean and English, on/off); run one
        with run_routine."""
        return {"routines": await _guard(home.routines())}

    @server.tool()
    async def run_routine(routine_id: str = Field(min_length=1, max_length=128)) -> dict[str, Any]:
        """Run a routine now or apply a scene ("movie"), by the id list_routines gives; refused
        before anything runs unless every command it sends is allowed for this agent. Returns the
        run: its status and each step's (each device's) result."""
        return await _guard(home.run_routine(routine_id, allowed, devices_allowed))

    return server


def _direction(value: str | None) -> Direction | None:
    try:
        return direction_of(value)
    except HomeError as exc:
        raise ToolError(str(exc)) from exc


async def _guard(work: Awaitable[_T]) -> _T:
    """Await a home call; a refusal becomes a ToolError the agent reads."""
    try:
        return await work
    except HomeError as exc:
        raise ToolError(str(exc)) from exc


def http_app(server: MCPServer) -> Starlette:
    """The streamable-HTTP app at /mcp (serve with lifespan on)."""
    return server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)


async def serve_http(server: MCPServer, host: str, port: int) -> None:
    """Serve over streamable HTTP until cancelled."""
    # No X-Forwarded-For believed (uvicorn believes 127.0.0.1's by default): as on the hub, api/proxies.py.
    config = uvicorn.Config(http_app(server), host=host, port=port, log_level="warning", proxy_headers=False)
    await uvicorn.Server(config).serve()


async def serve_stdio(server: MCPServer) -> None:
    """Serve over stdin/stdout until the client closes it."""
    await server.run_stdio_async()
