"""An MCP server so LLM agents can drive the home through the hub's one command path."""

from oneteam.interop.mcp.home import HomeError, HomePort, LocalHome, RemoteHome
from oneteam.interop.mcp.server import (
    DEFAULT_ALLOWED_COMMANDS,
    HubTokenVerifier,
    build_server,
    http_app,
    serve_http,
    serve_stdio,
)

__all__ = [
    "DEFAULT_ALLOWED_COMMANDS",
    "HomeError",
    "HomePort",
    "HubTokenVerifier",
    "LocalHome",
    "RemoteHome",
    "build_server",
    "http_app",
    "serve_http",
    "serve_stdio",
]
