"""REST for the household: sign-in sessions, who am I, members, and members' API tokens.

The contract the page builds on is written down in docs/household.md.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from oneteam.api.auth import SESSION_COOKIE, caller_of, cookie_path, credential_of, grant_of, hub_of
from oneteam.api.schemas import error_responses
from oneteam.api.signin_limit import address_of, hold, limits_of, too_many
from oneteam.hub import Hub
from oneteam.hub.accounts import MAX_PASSWORD, AccountError, NotAllowed, SignInFailed, TokenNotFound
from oneteam.hub.callers import Caller
from oneteam.hub.household import SESSION_PREFIX
from oneteam.model import DeviceType

router = APIRouter(tags=["household"])
"""Routes that need a signed-in caller (mounted behind `require_token`)."""
public_router = APIRouter(tags=["household"])
"""Signing in: no token yet."""

_Text = Annotated[str, Field(max_length=MAX_PASSWORD)]
_Ids = Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]], Field(max_length=1000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(_Body):
    """A name and password, or the code of a one-time sign-in link."""

    name: Annotated[str, Field(max_length=64)] | None = None
    password: _Text | None = None
    code: Annotated[str, Field(max_length=128)] | None = None


class PermissionsBody(_Body):
    """Replacements for the role's defaults; rooms/types `null` means no limit."""

    rooms: _Ids | None = None
    types: _Ids | None = None
    allow: _Ids | None = None
    deny: _Ids | None = None


class NewMember(_Body):
    name: Annotated[str, Field(max_length=64)]
    role: Annotated[str, Field(max_length=16)]
    password: _Text | None = None
    display: Annotated[str, Field(max_length=64)] = ""
    permissions: PermissionsBody | None = None
    expires_at: Annotated[float, Field(gt=0, lt=1e11)] | None = None


class MemberChange(_Body):
    role: Annotated[str, Field(max_length=16)] | None = None
    password: _Text | None = None
    display: Annotated[str, Field(max_length=64)] | None = None
    permissions: PermissionsBody | None = None
    expires_at: Annotated[float, Field(gt=0, lt=1e11)] | None = None
    clear_expiry: bool = False


class NewToken(_Body):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    member: Annotated[str, Field(max_length=64)] | None = None
    """Whose token (default: the caller); the owner and adults may make one for another member."""
    door: Annotated[str, Field(max_length=16)] | None = None
    expires_in_days: Annotated[float, Field(gt=0, le=366)] | None = None


def _overrides(hub: Hub, body: PermissionsBody | None) -> dict[str, Any] | None:
    """The permissions given, each id checked against the running home (a typo is a 400)."""
    if body is None:
        return None
    given = body.model_dump(exclude_unset=True)
    known = {
        "rooms": set(hub.home.rooms),
        "types": {t.value for t in DeviceType},
        "allow": {d.id for d in hub.devices()},
        "deny": {d.id for d in hub.devices()},
    }
    for field, ids in given.items():
        unknown = sorted(set(ids or ()) - known[field])
        if unknown:
            raise AccountError(
                "error.member.unknown_id",
                f"unknown {field}: {unknown}",
                field=field,
                ids=", ".join(unknown)[:200],
            )
    return given


def _session_answer(
    response: Response, request: Request, value: str, expires: float, member: Any
) -> dict[str, Any]:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max(1, int(expires - time.time())),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        # Under the prefix a cluster serves the home at (/homes/<id>): two homes signed into in
        # one browser keep a cookie each. A lone hub's prefix is empty: "/".
        path=cookie_path(request),
    )
    return {"token": value, "expires_at": expires, "member": member.public()}


@public_router.post("/api/session", responses=error_responses(429), response_model=None)
async def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, Any] | JSONResponse:
    """Sign in with a name and password (or a one-time link's code): a session, also set as an
    HttpOnly cookie; its `token` works as a bearer token too. Wrong details: 401. Repeated wrong
    passwords for one name or from one address are slowed, then refused with 429 and Retry-After."""
    household = hub_of(request).household
    limits, address = limits_of(request), address_of(request)
    name = None if body.code is not None else body.name
    wait = limits.retry_after(name, address)
    if wait is not None:
        return too_many(request, wait)
    await hold(limits, name, address)
    try:
        if body.code is not None:
            value, expires, member = await household.redeem_link(body.code)
        elif body.name is not None and body.password is not None:
            value, expires, member = await household.sign_in(body.name, body.password)
        else:
            raise SignInFailed("error.session.missing")
    except SignInFailed:
        if body.code is not None or body.password is not None:
            limits.failed(name, address)
        raise
    limits.succeeded(member.name)
    return _session_answer(response, request, value, expires, member)


@public_router.get("/signin", include_in_schema=False)
async def sign_in_link(request: Request, code: Annotated[str, Query(max_length=128)] = "") -> Response:
    """The one-time link `oneteam serve` prints: signs the browser in and opens the page."""
    value, expires, member = await hub_of(request).household.redeem_link(code)
    answer = RedirectResponse(cookie_path(request).rstrip("/") + "/", status_code=303)
    _session_answer(answer, request, value, expires, member)
    return answer


@router.delete("/api/session")
async def sign_out(request: Request, response: Response) -> dict[str, bool]:
    """Sign out: the session (cookie or bearer) stops working at every door at once."""
    value = credential_of(request) or ""
    ended = value.startswith(SESSION_PREFIX) and await hub_of(request).household.sign_out(value)
    response.delete_cookie(SESSION_COOKIE, path=cookie_path(request))
    return {"signed_out": bool(ended)}


@router.get("/api/me")
async def who_am_i(request: Request) -> dict[str, Any]:
    """The signed-in member: role, permissions, the devices they may use (null = all), and
    what the activity log shows for them."""
    caller = caller_of(request)
    grant = grant_of(request)
    member = caller.member or await hub_of(request).household.owner()
    return {
        "member": None if member is None else member.public(),
        "role": str(caller.role),
        "manages": caller.role.manages,
        "via": caller.credential.kind,
        "token": caller.credential.name if caller.credential.kind == "token" else None,
        "devices": None if grant.devices is None else sorted(grant.devices),
        "source": grant.source,
    }


def _manager(caller: Caller) -> None:
    if not caller.role.manages:
        raise NotAllowed("members")


@router.get("/api/members")
async def list_members(request: Request) -> dict[str, Any]:
    """Every member (the owner and adults only)."""
    _manager(caller_of(request))
    return {"members": [m.public() for m in await hub_of(request).household.members()]}


@router.post("/api/members", status_code=201, responses=error_responses(403, 409))
async def add_member(body: NewMember, request: Request) -> dict[str, Any]:
    """Add a member (the owner and adults; only the owner adds an owner)."""
    member = await hub_of(request).household.add_member(
        body.name,
        body.role,
        by=caller_of(request),
        password=body.password,
        display=body.display,
        overrides=_overrides(hub_of(request), body.permissions),
        expires_at=body.expires_at,
    )
    return member.public()


_Name = Annotated[str, Path(max_length=64)]


@router.get("/api/members/{name}")
async def get_member(name: _Name, request: Request) -> dict[str, Any]:
    """One member: yourself, or anyone for the owner and adults."""
    caller = caller_of(request)
    if caller.name != name:
        _manager(caller)
    return (await hub_of(request).household.member(name)).public()


@router.patch("/api/members/{name}", responses=error_responses(403))
async def change_member(name: _Name, body: MemberChange, request: Request) -> dict[str, Any]:
    """Change a member: your own password or display name, or (owner and adults) anyone's role,
    permissions and expiry."""
    member = await hub_of(request).household.update_member(
        name,
        by=caller_of(request),
        role=body.role,
        password=body.password,
        display=body.display,
        overrides=_overrides(hub_of(request), body.permissions),
        expires_at=body.expires_at,
        clear_expiry=body.clear_expiry,
    )
    return member.public()


@router.delete("/api/members/{name}", responses=error_responses(403))
async def remove_member(name: _Name, request: Request) -> dict[str, bool]:
    """Remove a member with their sessions and tokens (the owner and adults)."""
    await hub_of(request).household.remove_member(name, by=caller_of(request))
    return {"removed": True}


@router.get("/api/tokens")
async def list_tokens(request: Request) -> dict[str, Any]:
    """API tokens (never their values): all for the owner and adults, your own otherwise."""
    return {"tokens": await hub_of(request).household.tokens(by=caller_of(request))}


@router.post("/api/tokens", status_code=201, responses=error_responses(403, 404))
async def create_token(body: NewToken, request: Request) -> dict[str, Any]:
    """A named API token for you (or, for the owner and adults, another member); its value is
    in this answer only."""
    caller = caller_of(request)
    household = hub_of(request).household
    owner = await household.owner()
    member = body.member or caller.name or (owner.name if owner else "")
    expires = None if body.expires_in_days is None else time.time() + body.expires_in_days * 86400
    token_id, token = await household.create_token(
        member, body.name, by=caller, door=body.door, expires_at=expires
    )
    return {"id": token_id, "name": body.name, "member": member, "token": token, "expires_at": expires}


@router.delete("/api/tokens/{token_id}", responses=error_responses(403))
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request
) -> dict[str, bool]:
    """Revoke a token (yours, or any for the owner and adults): every door refuses it at once."""
    hub = hub_of(request)
    if not await hub.household.revoke_token(token_id, by=caller_of(request)):
        raise TokenNotFound(token_id)
    await hub.revoke_token(token_id)  # wakes sockets opened with it and empties the token memory
    return {"revoked": True}
