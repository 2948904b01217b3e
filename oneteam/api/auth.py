"""Bearer-token checks for HTTP and WebSocket: each request's `Grant` comes from its token."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request, WebSocket

from oneteam.hub import Hub
from oneteam.hub.callers import Caller
from oneteam.model import Device, DeviceNotFound, Door, Event, Grant

SESSION_COOKIE = "oneteam_session"
"""The page's sign-in session (HttpOnly, SameSite=Strict): the same value works as a bearer token."""


def cookie_path(request: Request) -> str:
    """The path a sign-in cookie is scoped to: the prefix the home is served under (a cluster's
    `/homes/<id>`, the app's root_path), or "/" for a lone hub."""
    prefix: str = request.scope.get("root_path", "")
    return prefix.rstrip("/") or "/"


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


def credential_of(request: Request) -> str | None:
    """The bearer token, or else the session cookie the page signed in with."""
    return bearer(request.headers.get("authorization")) or request.cookies.get(SESSION_COOKIE) or None


async def require_token(request: Request) -> None:
    """Refuse the request with 401 unless it carries a valid token or session; keep who it is
    (`caller_of`) and its grant (`grant_of`)."""
    token = credential_of(request)
    hub = hub_of(request)
    caller = await hub.household.caller(token) if token else None
    if caller is None:
        raise HTTPException(status_code=401)
    request.state.caller = caller
    request.state.grant = hub.household.grant_of(caller, Door.REST)


def caller_of(request: Request) -> Caller:
    """The member (or household token) `require_token` found for this request."""
    caller: Caller = request.state.caller
    return caller


def grant_of(request: Request) -> Grant:
    """The grant `require_token` found for this request (its router must depend on it)."""
    grant: Grant = request.state.grant
    return grant


def sees(grant: Grant, device: Device) -> bool:
    """Whether a caller is shown a device at all: a member is shown only the devices their Grant
    lets them use (a child is not shown the oven), at every door that lists devices or states."""
    return grant.shows(device)


def seen_device(hub: Hub, grant: Grant, device_id: str) -> Device:
    """The device, or DeviceNotFound (404) when it is missing or not shown to this caller."""
    device = hub.device(device_id)
    if not sees(grant, device):
        raise DeviceNotFound(device_id)
    return device


def sees_event(hub: Hub, grant: Grant, event: Event) -> bool:
    """Whether an event is shown to this caller: a device's event when the device is shown (also
    once it is gone, by the Grant's device list); a home-wide one unless it names devices that are
    not (a schedule booked or done lists its actions' devices)."""
    if grant.devices is None and grant.rooms is None:
        return True
    if event.device_id is not None:
        return _sees_id(hub, grant, event.device_id)
    actions = event.data.get("actions")
    if not isinstance(actions, list):
        return True
    named = {str(a["device"]) for a in actions if isinstance(a, dict) and "device" in a}
    return all(_sees_id(hub, grant, device_id) for device_id in named)


def _sees_id(hub: Hub, grant: Grant, device_id: str) -> bool:
    if grant.devices is not None and device_id not in grant.devices:
        return False
    if grant.rooms is None:
        return True
    try:
        return sees(grant, hub.device(device_id))
    except DeviceNotFound:
        return False


def websocket_token(websocket: WebSocket) -> str | None:
    """A WebSocket's token: Authorization header, or `token` query parameter for browsers, which
    cannot set headers on a WebSocket, or the page's session cookie."""
    return (
        bearer(websocket.headers.get("authorization"))
        or websocket.query_params.get("token")
        or websocket.cookies.get(SESSION_COOKIE)
        or None
    )


async def websocket_grant(websocket: WebSocket, door: Door) -> Grant | None:
    """The grant of a WebSocket's token, or None when it has no valid one."""
    token = websocket_token(websocket)
    hub: Hub = websocket.app.state.hub
    return await hub.grant_for(token, door) if token else None


async def websocket_token_ok(websocket: WebSocket) -> bool:
    """Whether a WebSocket carries a valid token."""
    return await websocket_grant(websocket, Door.WS) is not None


def websocket_origin_ok(websocket: WebSocket) -> bool:
    """A browser's cross-site WebSocket is refused: no Origin (a program, not a page), the hub's
    own origin (same host:port as the request), or one configured with `--allow-origin`."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin.strip())
    host = websocket.headers.get("host", "")
    if parts.scheme in ("http", "https") and parts.netloc and parts.netloc.lower() == host.lower():
        return True
    allowed: tuple[str, ...] = getattr(websocket.app.state, "allowed_origins", ())
    return origin.strip().rstrip("/").lower() in allowed


router = APIRouter(prefix="/api/token", tags=["auth"])


@router.get("")
async def who_am_i(request: Request) -> dict[str, str]:
    """Who this request's token is: what the activity log will show for its commands."""
    grant = grant_of(request)
    return {"principal": grant.principal, "door": str(grant.door), "source": grant.source}
