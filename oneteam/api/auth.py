"""Bearer-token checks for HTTP and WebSocket."""

from __future__ import annotations

from fastapi import HTTPException, Request, WebSocket

from oneteam.hub import Hub


def hub_of(request: Request) -> Hub:
    """The running hub."""
    hub: Hub = request.app.state.hub
    return hub


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def require_token(request: Request) -> None:
    """Refuse the request with 401 unless it carries a valid bearer token."""
    token = bearer(request.headers.get("authorization"))
    if token is None or not await hub_of(request).check_token(token):
        raise HTTPException(status_code=401)


async def websocket_token_ok(websocket: WebSocket) -> bool:
    """Whether a WebSocket carries a valid token (Authorization header, or `token` query parameter
    for browsers, which cannot set headers on a WebSocket)."""
    token = bearer(websocket.headers.get("authorization")) or websocket.query_params.get("token")
    hub: Hub = websocket.app.state.hub
    return token is not None and await hub.check_token(token)
